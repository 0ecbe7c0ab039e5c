//! Rules moving into the core (issue 13).
