//! One conformance suite for every driver: each scenario is written once, against the
//! neutral [`Driver`](driver::Driver) adapter, and runs as one test per driver, named
//! `scenario::driver` (`disconnect_mid_reply::mio`), so a failure names both.
//!
//! - `hostile.rs`: broken and hostile servers (the fault server), formerly
//!   `hostile_blocking.rs` and `hostile_mio.rs`;
//! - `peer.rs`: scripted peers (every `ABOR` answer, active mode, port theft), formerly in
//!   `blocking_peer.rs` and `mio_local.rs`;
//! - `pending.rs`: the rules issue 13 moves into the core ([`PENDING_CORE_RULES`]); they run
//!   only with `FTP_CONFORMANCE_PENDING=1` until that work is merged.
//!
//! The drivers: `blocking.rs` (ftp-blocking) and `mio.rs` (ftp-mio). To add one, see the
//! module documentation of [`driver`]. `cargo test -p ftp-tests --test conformance table --
//! --nocapture` prints the count per driver.

mod blocking;
mod driver;
mod hostile;
#[path = "../hostile_common/mod.rs"]
mod hostile_common;
mod mio;
mod peer;
mod pending;

/// Every scenario function, by the name the table uses.
mod scenarios {
    pub use crate::hostile::*;
    pub use crate::peer::*;
    pub use crate::pending::*;
}

/// The environment variable that turns the [`PENDING_CORE_RULES`] scenarios on.
const PENDING_ENV: &str = "FTP_CONFORMANCE_PENDING";

/// Runs a pending scenario when [`PENDING_ENV`] is `1`, else says it was skipped.
fn pending(name: &str, driver: &str, scenario: fn()) {
    if std::env::var(PENDING_ENV).as_deref() == Ok("1") {
        scenario();
    } else {
        eprintln!("{name}::{driver}: pending core rule, skipped ({PENDING_ENV}=1 runs it)");
    }
}

/// Generates, for every scenario and every driver, the test `scenario::driver`, and the
/// lists [`ACTIVE`], [`PENDING_CORE_RULES`] and [`DRIVERS`].
macro_rules! conformance {
    (
        drivers: $drivers:tt,
        active: [$($name:ident),* $(,)?],
        pending: [$($pending:ident),* $(,)?] $(,)?
    ) => {
        /// The scenarios every driver must pass.
        const ACTIVE: &[&str] = &[$(stringify!($name)),*];
        /// Scenarios of rules being moved into the core (issue 13, items 1-6 and 9); skipped
        /// unless `FTP_CONFORMANCE_PENDING=1`.
        const PENDING_CORE_RULES: &[&str] = &[$(stringify!($pending)),*];
        conformance!(@names $drivers);
        $(conformance!(@active $name $drivers);)*
        $(conformance!(@pending $pending $drivers);)*
    };
    (@names { $($driver:ident: $ty:ty),+ $(,)? }) => {
        /// The drivers, by [`Driver::NAME`](driver::Driver::NAME).
        const DRIVERS: &[&str] = &[$(<$ty as driver::Driver>::NAME),+];
    };
    (@active $name:ident { $($driver:ident: $ty:ty),+ $(,)? }) => {
        mod $name {
            $(
                #[test]
                fn $driver() {
                    crate::scenarios::$name::<$ty>();
                }
            )+
        }
    };
    (@pending $name:ident { $($driver:ident: $ty:ty),+ $(,)? }) => {
        mod $name {
            $(
                #[test]
                fn $driver() {
                    crate::pending(
                        stringify!($name),
                        stringify!($driver),
                        crate::scenarios::$name::<$ty>,
                    );
                }
            )+
        }
    };
}

conformance! {
    drivers: {
        blocking: crate::blocking::Blocking,
        mio: crate::mio::Mio,
    },
    active: [
        // hostile servers
        disconnect_before_greeting,
        disconnect_mid_reply,
        disconnect_after_user,
        disconnect_mid_transfer,
        data_closed_early_with_announced_size,
        data_closed_early_without_size,
        transfer_426_or_451_is_an_error,
        disconnect_after_data_before_226,
        disconnect_during_abor,
        disconnect_during_quit,
        reply_421_at_every_step,
        negative_replies_for_every_command,
        reply_codes_out_of_range,
        reply_line_never_ends,
        ten_mib_reply_line,
        multiline_reply_never_closes,
        replies_byte_by_byte_with_delays,
        invalid_utf8_in_replies,
        invalid_utf8_in_listings,
        ten_mib_listing_line,
        listing_larger_than_the_limit_is_refused,
        data_connection_refused,
        data_connection_silent,
        active_server_never_connects,
        pasv_other_host_uses_control_peer,
        pasv_port_zero,
        pasv_port_above_65535,
        pasv_privileged_port_other_host,
        server_never_answers,
        connect_timeout,
        caller_names_with_crlf_nul_refused,
        resume_with_rest_is_byte_identical,
        upload_cut_is_an_error,
        extra_replies_are_not_taken_for_the_next_command,
        operation_timeout_bounds_a_trickling_server,
        operation_timeout_bounds_a_dripping_download,
    ],
    pending: [],
}

/// Where each test of the per-driver files went: (old file, old test, scenario). The
/// `table` test checks every scenario named here is in the table, so a case cannot be
/// dropped silently.
const PORTED: &[(&str, &str, &str)] = &[
    (
        "hostile_*",
        "disconnect_before_greeting",
        "disconnect_before_greeting",
    ),
    ("hostile_*", "disconnect_mid_reply", "disconnect_mid_reply"),
    (
        "hostile_*",
        "disconnect_after_user",
        "disconnect_after_user",
    ),
    (
        "hostile_*",
        "disconnect_mid_transfer",
        "disconnect_mid_transfer",
    ),
    (
        "hostile_*",
        "data_closed_early_with_announced_size",
        "data_closed_early_with_announced_size",
    ),
    (
        "hostile_*",
        "data_closed_early_without_size",
        "data_closed_early_without_size",
    ),
    (
        "hostile_*",
        "transfer_426_or_451_is_an_error",
        "transfer_426_or_451_is_an_error",
    ),
    (
        "hostile_*",
        "disconnect_after_data_before_226",
        "disconnect_after_data_before_226",
    ),
    (
        "hostile_*",
        "disconnect_during_abor",
        "disconnect_during_abor",
    ),
    (
        "hostile_*",
        "disconnect_during_quit",
        "disconnect_during_quit",
    ),
    (
        "hostile_*",
        "reply_421_at_every_step",
        "reply_421_at_every_step",
    ),
    (
        "hostile_*",
        "negative_replies_for_every_command",
        "negative_replies_for_every_command",
    ),
    (
        "hostile_*",
        "reply_codes_out_of_range",
        "reply_codes_out_of_range",
    ),
    (
        "hostile_*",
        "reply_line_never_ends",
        "reply_line_never_ends",
    ),
    ("hostile_*", "ten_mib_reply_line", "ten_mib_reply_line"),
    (
        "hostile_*",
        "multiline_reply_never_closes",
        "multiline_reply_never_closes",
    ),
    (
        "hostile_*",
        "replies_byte_by_byte_with_delays",
        "replies_byte_by_byte_with_delays",
    ),
    (
        "hostile_*",
        "invalid_utf8_in_replies",
        "invalid_utf8_in_replies",
    ),
    (
        "hostile_*",
        "invalid_utf8_in_listings",
        "invalid_utf8_in_listings",
    ),
    ("hostile_*", "ten_mib_listing_line", "ten_mib_listing_line"),
    (
        "hostile_blocking",
        "listing_larger_than_the_limit_is_refused",
        "listing_larger_than_the_limit_is_refused",
    ),
    (
        "hostile_*",
        "data_connection_refused",
        "data_connection_refused",
    ),
    (
        "hostile_*",
        "data_connection_silent",
        "data_connection_silent",
    ),
    (
        "hostile_*",
        "active_server_never_connects",
        "active_server_never_connects",
    ),
    (
        "hostile_*",
        "pasv_other_host_uses_control_peer",
        "pasv_other_host_uses_control_peer",
    ),
    ("hostile_*", "pasv_port_zero", "pasv_port_zero"),
    (
        "hostile_*",
        "pasv_port_above_65535",
        "pasv_port_above_65535",
    ),
    (
        "hostile_*",
        "pasv_privileged_port_other_host",
        "pasv_privileged_port_other_host",
    ),
    ("hostile_*", "server_never_answers", "server_never_answers"),
    ("hostile_*", "connect_timeout", "connect_timeout"),
    (
        "hostile_*",
        "caller_names_with_crlf_nul_refused",
        "caller_names_with_crlf_nul_refused",
    ),
    (
        "hostile_*",
        "resume_with_rest_is_byte_identical",
        "resume_with_rest_is_byte_identical",
    ),
    (
        "hostile_*",
        "upload_cut_is_an_error",
        "upload_cut_is_an_error",
    ),
    (
        "hostile_*",
        "extra_replies_are_not_taken_for_the_next_command",
        "extra_replies_are_not_taken_for_the_next_command",
    ),
    (
        "hostile_blocking",
        "operation_timeout_bounds_a_trickling_server",
        "operation_timeout_bounds_a_trickling_server",
    ),
    (
        "hostile_*",
        "operation_timeout_bounds_a_dripping_download",
        "operation_timeout_bounds_a_dripping_download",
    ),
];

/// The table itself: no scenario twice, none both active and pending, every ported case
/// present; prints the count per driver.
#[test]
fn table() {
    let mut names: Vec<&str> = ACTIVE.iter().chain(PENDING_CORE_RULES).copied().collect();
    names.sort_unstable();
    let total = names.len();
    names.dedup();
    assert_eq!(names.len(), total, "a scenario is listed twice");
    for (file, old, scenario) in PORTED {
        assert!(
            ACTIVE.contains(scenario),
            "{file}::{old} was ported as {scenario}, which is not in the active table"
        );
    }
    assert!(DRIVERS.len() >= 2, "{DRIVERS:?}");
    for driver in DRIVERS {
        eprintln!(
            "conformance: {} scenarios × {driver} (+{} pending core rules)",
            ACTIVE.len(),
            PENDING_CORE_RULES.len()
        );
    }
}
