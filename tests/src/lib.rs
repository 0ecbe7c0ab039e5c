//! Integration-test helpers.
