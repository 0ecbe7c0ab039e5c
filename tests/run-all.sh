#!/usr/bin/env bash
# tests/run-all.sh -- runs every test of the workspace, those against real FTP servers included.
#
#   1. installs whatever of vsftpd, ProFTPD, Pure-FTPd and pyftpdlib is missing
#      (tests/servers/install.sh; needs root or password-less sudo the first time, then is a
#      quick no-op check);
#   2. builds all test targets once, so a compile error stops everything before any test runs;
#   3. runs `cargo test --workspace -- --include-ignored`: the tests that need the system
#      servers are #[ignore]d for plain `cargo test`, and are included here.
#
# Usage: tests/run-all.sh [CARGO TEST ARGS...]
#   With arguments they replace `--workspace`, e.g. `tests/run-all.sh -p ftp-tests harness`.
#   RUST_TEST_THREADS (default 4: most server tests wait on sockets, not on the CPU) and
#   FTP_SERVERS_HOME (where the servers are installed) are honoured.
# Exit status: 0 only when everything passed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\n=== run-all.sh: %s\n' "$*" >&2; }
started=$SECONDS
# Servers whose test process died before stopping them (killed, or Ctrl-C: the servers ignore
# SIGINT) are found through this id, which the harness writes into each server's directory,
# and stopped when this script ends.
export FTP_RS_TEST_RUN="run-all-$$-$RANDOM$RANDOM"
ROOT_CMD=()
[ "$(id -u)" -eq 0 ] || ROOT_CMD=(sudo -n)
still_that_server() {  # PID PIDFILE: a server process, started before it wrote PIDFILE
  local comm started written
  comm=$(ps -o comm= -p "$1" 2>/dev/null) || return 1
  case "$comm" in vsftpd | proftpd | pure-ftpd | python*) ;; *) return 1 ;; esac
  started=$(date -d "$(ps -o lstart= -p "$1")" +%s) || return 1
  written=$(stat -c %Y "$2") || return 1
  [ "$started" -le "$written" ]  # else the PID was reused by a newer process
}
stop_leftovers() {
  local idfile dir pidfile pid
  for idfile in "${TMPDIR:-/tmp}"/ftp-rs-*/run-id; do
    [ -f "$idfile" ] && [ "$(cat "$idfile")" = "$FTP_RS_TEST_RUN" ] || continue
    dir=$(dirname "$idfile")
    for pidfile in "$dir"/state-*/server.pid; do
      [ -f "$pidfile" ] || continue
      pid=$(cat "$pidfile")
      if [[ "$pid" =~ ^[0-9]+$ ]] && still_that_server "$pid" "$pidfile"; then
        echo "run-all.sh: stopping leftover server $pid ($dir)" >&2
        "${ROOT_CMD[@]}" tests/servers/stop.sh "$pid" || true
      fi
    done
  done
}
on_exit() {
  local rc=$?
  stop_leftovers
  if [ "$rc" -eq 0 ]; then
    say "all tests passed ($((SECONDS - started)) s)"
  else
    say "FAILED (exit status $rc, after $((SECONDS - started)) s)"
  fi
}
trap on_exit EXIT

command -v cargo >/dev/null || { echo "run-all.sh: cargo not found (install Rust: https://rustup.rs)" >&2; exit 1; }

# --- 1. system FTP servers -------------------------------------------------------------------
if ! tests/servers/install.sh --check 2>/dev/null; then
  say "installing the test FTP servers (tests/servers/install.sh)"
  if [ "$(id -u)" -ne 0 ] && ! { command -v sudo >/dev/null && sudo -n true 2>/dev/null; }; then
    echo "run-all.sh: installing the servers needs root or password-less sudo; run" >&2
    echo "  sudo tests/servers/install.sh" >&2
    echo "once, or run only the in-process tests with plain 'cargo test'." >&2
    exit 1
  fi
  tests/servers/install.sh
fi
if [ "$(id -u)" -ne 0 ] && ! { command -v sudo >/dev/null && sudo -n true 2>/dev/null; }; then
  echo "run-all.sh: vsftpd, ProFTPD and Pure-FTPd are started as root: run this as root or" >&2
  echo "with password-less sudo (plain 'cargo test' runs the in-process tests only)." >&2
  exit 1
fi

# --- 2. build once ------------------------------------------------------------------------------
if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=(--workspace)
fi
say "building (cargo test ${targets[*]} --no-run)"
cargo test "${targets[@]}" --no-run

# --- 3. every test, the ignored ones included ---------------------------------------------------
export RUST_TEST_THREADS="${RUST_TEST_THREADS:-4}"
say "cargo test ${targets[*]} -- --include-ignored (RUST_TEST_THREADS=$RUST_TEST_THREADS)"
cargo test "${targets[@]}" -- --include-ignored
