//! The event loop the `mio_*` tests share: one `mio::Poll` owned by the test, a
//! [`Sessions`] on a token range of it, and helpers that run the loop until given operations
//! complete. The loop waits only as long as [`Sessions::poll_timeout`] says (capped), so a
//! driver that forgot a deadline shows up as a test that runs into [`LIMIT`].
#![allow(dead_code)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ftp_mio::{Completion, OpId, Options, Sessions};
use mio::{Events, Poll, Token};

/// Longest any test waits for its operations.
pub const LIMIT: Duration = Duration::from_secs(120);

/// A poll, its events and the sessions on it.
pub struct Loop {
    pub poll: Poll,
    pub events: Events,
    pub ftp: Sessions,
    /// Completions seen, by operation.
    pub done: HashMap<OpId, Completion>,
    /// How many times `poll` returned.
    pub wakeups: u64,
}

impl Loop {
    /// Room for `max` sessions on tokens from 1000 on (the tests' own tokens stay below).
    pub fn new(max: usize) -> Loop {
        Loop::with_options(max, Options::default())
    }

    pub fn with_options(max: usize, options: Options) -> Loop {
        let poll = Poll::new().expect("poll");
        let ftp =
            Sessions::with_options(poll.registry(), Token(1000), max, options).expect("sessions");
        Loop {
            poll,
            events: Events::with_capacity(256),
            ftp,
            done: HashMap::new(),
            wakeups: 0,
        }
    }

    /// One round: poll (at most `cap`), hand over the events, timeouts, collect completions.
    pub fn turn(&mut self, cap: Duration) {
        let wait = self.ftp.poll_timeout().map_or(cap, |d| d.min(cap));
        ftp_tests::poll_once(&mut self.poll, &mut self.events, Some(wait));
        self.wakeups += 1;
        for event in self.events.iter() {
            assert!(
                self.ftp.handle_event(event),
                "foreign token {:?}",
                event.token()
            );
        }
        self.ftp.handle_timeouts();
        while let Some(c) = self.ftp.poll_completion() {
            assert!(
                self.done.insert(c.op, c).is_none(),
                "an operation completed twice"
            );
        }
    }

    /// Runs until every op in `ops` completed; returns their completions in that order.
    pub fn wait_all(&mut self, ops: &[OpId]) -> Vec<Completion> {
        let start = Instant::now();
        while !ops.iter().all(|op| self.done.contains_key(op)) {
            assert!(
                start.elapsed() < LIMIT,
                "operations did not complete in time"
            );
            self.turn(Duration::from_millis(500));
        }
        ops.iter().map(|op| self.done.remove(op).unwrap()).collect()
    }

    /// Runs until every op in `ops` completed, leaving their completions in `done`.
    pub fn wait_all_keep(&mut self, ops: &[OpId]) {
        let start = Instant::now();
        while !ops.iter().all(|op| self.done.contains_key(op)) {
            assert!(
                start.elapsed() < LIMIT,
                "operations did not complete in time"
            );
            self.turn(Duration::from_millis(500));
        }
    }

    /// Runs until `op` completed.
    pub fn wait(&mut self, op: OpId) -> Completion {
        self.wait_all(&[op]).pop().unwrap()
    }

    /// Runs until every session ended and every completion was collected.
    pub fn drain(&mut self) {
        let start = Instant::now();
        while !self.ftp.is_empty() {
            assert!(start.elapsed() < LIMIT, "sessions did not end in time");
            self.turn(Duration::from_millis(500));
        }
    }

    /// Runs for `d` (at least one round).
    pub fn run_for(&mut self, d: Duration) {
        let start = Instant::now();
        loop {
            let left = d.saturating_sub(start.elapsed());
            self.turn(left.min(Duration::from_millis(50)));
            if left.is_zero() {
                return;
            }
        }
    }
}

/// Deterministic pseudo-random bytes (xorshift), different per `seed`.
pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}
