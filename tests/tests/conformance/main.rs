//! One conformance suite for every driver: each scenario is written once, against the
//! neutral [`Driver`](driver::Driver) adapter, and runs as one test per driver, named
//! `scenario::driver` (`disconnect_mid_reply::mio`), so a failure names both.
//!
//! - `hostile.rs`: broken and hostile servers (the fault server), formerly
//!   `hostile_blocking.rs` and `hostile_mio.rs`;
//! - `peer.rs`: scripted peers (every `ABOR` answer, active mode, port theft), formerly in
//!   `blocking_peer.rs` and `mio_local.rs`;
//! - `tls.rs`: FTPS refusals (libunftp in-process), formerly in `ftps_blocking.rs` and
//!   `ftps_mio.rs`;
//! - `servers.rs`: libunftp and the four system servers, FTPS included, every scenario on
//!   every server;
//! - `core_rules.rs`: the rules issue 13 moves into the core; those the drivers do not agree
//!   on yet are [`PENDING_CORE_RULES`] and run only with `FTP_CONFORMANCE_PENDING=1` until
//!   that work is merged.
//!
//! The drivers: `blocking.rs` (ftp-blocking), `mio.rs` (ftp-mio) and `tokio.rs` (the tokio
//! client of ftp-core's examples, issue 14). To add one, see the
//! module documentation of [`driver`]. `cargo test -p ftp-tests --test conformance table --
//! --nocapture` prints the count per driver.

mod blocking;
mod core_rules;
mod driver;
mod hostile;
#[path = "../hostile_common/mod.rs"]
mod hostile_common;
mod mio;
mod peer;
mod servers;
mod tls;
mod tokio;
#[allow(dead_code)] // a whole module to copy; the adapter uses part of it
#[path = "../../../ftp-core/examples/tokio_client/client.rs"]
mod tokio_client;

/// Every scenario function, by the name the table uses.
mod scenarios {
    pub use crate::core_rules::*;
    pub use crate::hostile::*;
    pub use crate::peer::*;
    pub use crate::servers::*;
    pub use crate::tls::*;
}

/// The environment variable that turns the [`PENDING_CORE_RULES`] scenarios on.
const PENDING_ENV: &str = "FTP_CONFORMANCE_PENDING";

/// Runs a pending scenario when [`PENDING_ENV`] is `1`, else says it was skipped.
fn pending(name: &str, driver: &str, scenario: &dyn Fn()) {
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
        pending: [$($pending:ident),* $(,)?],
        servers: [$($server:ident $([$flag:ident])?),* $(,)?],
        pending_servers: [$($pending_server:ident),* $(,)?] $(,)?
    ) => {
        /// The scenarios every driver must pass.
        const ACTIVE: &[&str] = &[$(stringify!($name)),*];
        /// Scenarios of rules being moved into the core (issue 13, items 1-6 and 9); skipped
        /// unless `FTP_CONFORMANCE_PENDING=1`.
        const PENDING_CORE_RULES: &[&str] = &[$(stringify!($pending)),*];
        /// Scenarios on real servers, each for every driver on libunftp and the four system
        /// servers (`[ftps]`: libunftp started with a certificate).
        const ON_SERVERS: &[&str] = &[$(stringify!($server)),*];
        /// Real-server scenarios of rules being moved into the core; skipped unless
        /// `FTP_CONFORMANCE_PENDING=1`.
        const PENDING_ON_SERVERS: &[&str] = &[$(stringify!($pending_server)),*];
        conformance!(@names $drivers);
        $(conformance!(@active $name $drivers);)*
        $(conformance!(@pending $pending $drivers);)*
        $(conformance!(@server false, $server $($flag)? $drivers);)*
        $(conformance!(@server true, $pending_server $drivers);)*
    };
    (@server $pending:literal, $name:ident ftps $drivers:tt) => {
        conformance!(@server $pending, $name, crate::servers::ftps, $drivers);
    };
    (@server $pending:literal, $name:ident $drivers:tt) => {
        conformance!(@server $pending, $name, crate::servers::plain, $drivers);
    };
    (
        @server $pending:literal, $name:ident, $start:path,
        { $($driver:ident: $ty:ty),+ $(,)? }
    ) => {
        mod $name {
            $(
                mod $driver {
                    fn run(kind: ftp_tests::ServerKind) {
                        let running = $start(kind);
                        let scenario = || crate::scenarios::$name::<$ty>(running.server());
                        if $pending {
                            crate::pending(stringify!($name), stringify!($driver), &scenario);
                        } else {
                            scenario();
                        }
                    }
                    conformance!(@on_servers);
                }
            )+
        }
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
    (@on_servers) => {
        #[test]
        fn libunftp() {
            run(ftp_tests::ServerKind::Libunftp);
        }
        conformance!(@system vsftpd Vsftpd);
        conformance!(@system proftpd Proftpd);
        conformance!(@system pure_ftpd PureFtpd);
        conformance!(@system pyftpdlib Pyftpdlib);
    };
    (@system $test:ident $kind:ident) => {
        #[test]
        #[ignore = "needs system FTP servers: run tests/run-all.sh"]
        fn $test() {
            run(ftp_tests::ServerKind::$kind);
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
                        &crate::scenarios::$name::<$ty>,
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
        tokio: crate::tokio::Tokio,
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
        // scripted peers
        abort_426_then_226,
        abort_225_before_the_transfers_reply_is_resynchronised_with_noop,
        abort_225_then_the_transfers_late_426,
        abort_226_alone_is_resynchronised_with_noop,
        abort_226_of_the_transfer_then_226_of_abor,
        idle_abort,
        active_mode_eprt_falls_back_to_port,
        active_mode_425_is_a_temporary_failure,
        active_mode_drops_a_data_connection_from_another_host,
        active_mode_only_a_foreign_connection_is_a_data_timeout,
        epsv_refused_falls_back_to_pasv_for_the_session,
        greeting_after_120_is_one_greeting,
        multi_line_welcome,
        refused_greeting_is_an_error,
        wrong_password_is_permanent_and_session_goes_on,
        raw_command_reply_classes,
        undecodable_payload_is_a_protocol_error_but_not_fatal,
        reply_421_to_a_command_closes_the_session,
        idle_connection_closed_by_the_server_is_noticed_before_sending,
        connect_refused_is_io,
        stalled_download_times_out_and_aborts,
        type_is_sent_once_per_session_and_transfers_are_epsv_plus_retr,
        rest_is_sent_before_retr_and_stor,
        transfer_errors_after_150_and_before,
        // FTPS refusals
        untrusted_certificate_is_refused,
        wrong_server_name_is_refused,
        auth_tls_refused_by_a_server_without_tls,
        // the issue-13 rules, decided once in ftp-sansio (each pinned by a core transcript)
        refused_auth_tls_fails_closed,
        forced_close_reports_a_local_reason,
        closed_by_the_caller,
        failed_auth_tls_is_fatal,
        auth_tls_on_a_tls_connection_is_refused,
        prot_p_without_tls_is_refused,
        failing_sink_sends_abor,
        failing_source_sends_abor,
        listing_limit_sends_abor,
        abort_sends_abor_before_closing_the_data_connection,
        data_reset_is_the_same_failure_everywhere,
    ],
    pending: [],
    servers: [
        abort_keeps_the_session_in_step,
        failing_sink_keeps_the_session_in_step,
        directories_rename_delete_size,
        active_mode_transfers,
        explicit_ftps_protected_transfers [ftps],
        tls13_consecutive_uploads [ftps],
    ],
    pending_servers: [],
}

/// The tests of the per-driver files that became scenarios under the same name: 34 cases
/// of both `hostile_blocking.rs` and `hostile_mio.rs`, two of the first alone, scripted
/// peers of `blocking_peer.rs` (port theft also of `mio_local.rs`), and real-server checks of
/// `blocking_suite.rs`.
const PORTED: &[&str] = &[
    "disconnect_before_greeting",
    "disconnect_mid_reply",
    "disconnect_after_user",
    "disconnect_mid_transfer",
    "data_closed_early_with_announced_size",
    "data_closed_early_without_size",
    "transfer_426_or_451_is_an_error",
    "disconnect_after_data_before_226",
    "disconnect_during_abor",
    "disconnect_during_quit",
    "reply_421_at_every_step",
    "negative_replies_for_every_command",
    "reply_codes_out_of_range",
    "reply_line_never_ends",
    "ten_mib_reply_line",
    "multiline_reply_never_closes",
    "replies_byte_by_byte_with_delays",
    "invalid_utf8_in_replies",
    "invalid_utf8_in_listings",
    "ten_mib_listing_line",
    "listing_larger_than_the_limit_is_refused",
    "data_connection_refused",
    "data_connection_silent",
    "active_server_never_connects",
    "pasv_other_host_uses_control_peer",
    "pasv_port_zero",
    "pasv_port_above_65535",
    "pasv_privileged_port_other_host",
    "server_never_answers",
    "connect_timeout",
    "caller_names_with_crlf_nul_refused",
    "resume_with_rest_is_byte_identical",
    "upload_cut_is_an_error",
    "extra_replies_are_not_taken_for_the_next_command",
    "operation_timeout_bounds_a_trickling_server",
    "operation_timeout_bounds_a_dripping_download",
    "abort_426_then_226",
    "abort_225_before_the_transfers_reply_is_resynchronised_with_noop",
    "abort_225_then_the_transfers_late_426",
    "abort_226_alone_is_resynchronised_with_noop",
    "abort_226_of_the_transfer_then_226_of_abor",
    "idle_abort",
    "active_mode_eprt_falls_back_to_port",
    "active_mode_drops_a_data_connection_from_another_host",
    "active_mode_only_a_foreign_connection_is_a_data_timeout",
    "epsv_refused_falls_back_to_pasv_for_the_session",
    "multi_line_welcome",
    "refused_greeting_is_an_error",
    "wrong_password_is_permanent_and_session_goes_on",
    "undecodable_payload_is_a_protocol_error_but_not_fatal",
    "connect_refused_is_io",
    "stalled_download_times_out_and_aborts",
    "type_is_sent_once_per_session_and_transfers_are_epsv_plus_retr",
    "rest_is_sent_before_retr_and_stor",
    "transfer_errors_after_150_and_before",
    "directories_rename_delete_size",
    "active_mode_transfers",
];

/// Ported under another name, or covered by a scenario: (old test, scenario).
const RENAMED: &[(&str, &str)] = &[
    (
        "blocking_peer::active_mode_server_never_connects",
        "active_mode_425_is_a_temporary_failure",
    ),
    (
        "blocking_peer::sendcmd_and_voidcmd_error_classes (sendcmd)",
        "raw_command_reply_classes",
    ),
    (
        "blocking_peer::malformed_reply_is_a_protocol_error_and_closes",
        "reply_codes_out_of_range",
    ),
    (
        "blocking_peer::service_closing_421_closes_the_session",
        "reply_421_to_a_command_closes_the_session",
    ),
    (
        "blocking_peer::eof_and_eof_mid_reply",
        "disconnect_mid_reply",
    ),
    (
        "blocking_peer::eof_and_eof_mid_reply",
        "disconnect_after_user",
    ),
    (
        "blocking_peer::idle_connection_closed_by_server_is_noticed_before_sending",
        "idle_connection_closed_by_the_server_is_noticed_before_sending",
    ),
    (
        "blocking_peer::argument_injection_is_refused_before_sending",
        "caller_names_with_crlf_nul_refused",
    ),
    ("blocking_peer::reply_timeout", "server_never_answers"),
    (
        "blocking_peer::short_download_is_an_error_not_a_silent_truncation",
        "data_closed_early_with_announced_size",
    ),
    (
        "blocking_suite::abort_a_running_download (download, idle ABOR)",
        "abort_keeps_the_session_in_step",
    ),
    (
        "ftps_blocking::untrusted_certificate_is_refused_with_a_tls_error",
        "untrusted_certificate_is_refused",
    ),
    (
        "ftps_mio::untrusted_certificate_fails_auth_and_closes_the_session",
        "untrusted_certificate_is_refused",
    ),
    (
        "ftps_blocking::wrong_host_name_is_refused_and_the_connection_closed",
        "wrong_server_name_is_refused",
    ),
    (
        "ftps_mio::wrong_server_name_is_refused",
        "wrong_server_name_is_refused",
    ),
    (
        "ftps_blocking::refused_auth_tls_is_a_tls_error_and_never_a_clear_login",
        "auth_tls_refused_by_a_server_without_tls",
    ),
    (
        "ftps_mio::refused_auth_tls_is_a_tls_error_and_the_login_never_runs",
        "auth_tls_refused_by_a_server_without_tls",
    ),
    (
        "ftps_blocking::vsftpd_tls13_consecutive_uploads_keep_resuming",
        "tls13_consecutive_uploads",
    ),
    (
        "ftps_mio::vsftpd_tls13_consecutive_uploads",
        "tls13_consecutive_uploads",
    ),
    (
        "ftps_blocking::proftpd_tls13_runs_out_of_tickets_after_two_uploads (TLS 1.3 half)",
        "tls13_consecutive_uploads",
    ),
];
/// The table itself: no scenario twice, none both active and pending, every ported case
/// present; prints the count per driver.
#[test]
fn table() {
    let mut names: Vec<&str> = ACTIVE
        .iter()
        .chain(PENDING_CORE_RULES)
        .chain(ON_SERVERS)
        .chain(PENDING_ON_SERVERS)
        .copied()
        .collect();
    names.sort_unstable();
    let total = names.len();
    names.dedup();
    assert_eq!(names.len(), total, "a scenario is listed twice");
    let ported = PORTED.iter().map(|&name| (name, name));
    for (old, scenario) in ported.chain(RENAMED.iter().copied()) {
        assert!(
            ACTIVE.contains(&scenario) || ON_SERVERS.contains(&scenario),
            "{old} was ported as {scenario}, which is not in the active table"
        );
    }
    assert!(DRIVERS.len() >= 2, "{DRIVERS:?}");
    for driver in DRIVERS {
        eprintln!(
            "conformance: {} scripted scenarios + {} on each of 5 servers = {} cases × {driver} \
             (+{} pending core rules, {} of them on servers)",
            ACTIVE.len(),
            ON_SERVERS.len(),
            ACTIVE.len() + 5 * ON_SERVERS.len(),
            PENDING_CORE_RULES.len() + PENDING_ON_SERVERS.len(),
            PENDING_ON_SERVERS.len(),
        );
    }
}
