//! Scripted peers: conversations a real server will not show on demand.
