# common.sh -- sourced by the start-*.sh scripts of this directory; not meant to be run.
#
# Every start script follows the same contract:
#   start-<server>.sh PORT ROOT
#     - serves ROOT on 127.0.0.1:PORT (or [::1]:PORT when FTP_HOST=::1), nothing else;
#     - anonymous (any password) may only read, rooted at ROOT; ftptest/ftptest reads and writes,
#       also rooted at ROOT (PWD answers "/");
#     - PASV/EPSV use FTP_PASV_MIN..FTP_PASV_MAX; PORT/EPRT only towards the client's own address;
#     - AUTH TLS is offered (never required) with a self-signed certificate made at each start;
#     - prints the server's PID (one line) on stdout once a 220 greeting can be read, and the
#       state dir (config, cert.pem, key.pem, logs) on stderr.
#
# Environment understood by all of them:
#   FTP_HOST           127.0.0.1 (default) or ::1
#   FTP_PASV_MIN/MAX   passive port range (default 50000-50999)
#   FTP_STATE_DIR      where to put config/cert/logs (default: a new mktemp dir under $TMPDIR)
#   FTP_TLS_NO_REUSE=1 vsftpd/ProFTPD stop requiring TLS session reuse on data connections
#   FTP_SERVERS_HOME   where install.sh put the servers (default ~/.cache/ftp-rs-test-servers)
# shellcheck shell=bash

FTP_SERVERS_HOME="${FTP_SERVERS_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/ftp-rs-test-servers}"
SERVERS_OPT="$FTP_SERVERS_HOME/opt"
SERVERS_VENV="$FTP_SERVERS_HOME/venv"
SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
FTP_HOST="${FTP_HOST:-127.0.0.1}"
PASV_MIN="${FTP_PASV_MIN:-50000}"
PASV_MAX="${FTP_PASV_MAX:-50999}"
TLS_NO_REUSE="${FTP_TLS_NO_REUSE:-0}"

fail() { printf '%s: error: %s\n' "$NAME" "$*" >&2; exit 1; }
say() { printf '%s: %s\n' "$NAME" "$*" >&2; }

is_port() { [[ "$1" =~ ^[0-9]{1,5}$ ]] && [ "$1" -ge 1 ] && [ "$1" -le 65535 ]; }

# read_args PORT ROOT  ->  sets PORT and ROOT (absolute, symlinks resolved)
read_args() {
  [ $# -eq 2 ] || fail "usage: $(basename "$0") PORT ROOT"
  is_port "$1" || fail "PORT must be 1..65535, got '$1'"
  [ -d "$2" ] || fail "ROOT '$2' is not a directory"
  PORT="$1"
  ROOT="$(cd "$2" && pwd -P)"
  case "$FTP_HOST" in
    127.0.0.1 | ::1) ;;
    *) fail "FTP_HOST may only be 127.0.0.1 or ::1 (loopback), got '$FTP_HOST'" ;;
  esac
  is_port "$PASV_MIN" && is_port "$PASV_MAX" && [ "$PASV_MIN" -le "$PASV_MAX" ] \
    || fail "bad passive range FTP_PASV_MIN=$PASV_MIN FTP_PASV_MAX=$PASV_MAX"
  if greets; then fail "a server already answers on [$FTP_HOST]:$PORT"; fi
}

require_root() {
  [ "$(id -u)" -eq 0 ] \
    || fail "needs root (it switches to the users ftp/ftptest and chroots); try: sudo $0 $*"
}

# require_exe PATH: the binary install.sh should have unpacked
require_exe() {
  [ -x "$1" ] || fail "$1 is missing; run $SCRIPTS_DIR/install.sh first"
}

# new_state_dir -> STATE (world-searchable: the servers read their config after dropping root)
new_state_dir() {
  if [ -n "${FTP_STATE_DIR:-}" ]; then
    STATE="$FTP_STATE_DIR"
    mkdir -p "$STATE"
  else
    STATE="$(mktemp -d "${TMPDIR:-/tmp}/ftp-$NAME-$PORT.XXXXXX")"
  fi
  chmod 755 "$STATE"
  say "state dir: $STATE"
}

# self_signed_cert -> $STATE/cert.pem + $STATE/key.pem, RSA 2048, CN=localhost,
# valid for localhost, 127.0.0.1 and ::1. A leaf certificate (CA:FALSE, serverAuth): rustls'
# verifier refuses the CA:TRUE that `openssl req -x509` puts in by default (CaUsedAsEndEntity).
self_signed_cert() {
  if ! openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=localhost" \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
      -addext "basicConstraints=critical,CA:FALSE" -addext "extendedKeyUsage=serverAuth" \
      -keyout "$STATE/key.pem" -out "$STATE/cert.pem" >"$STATE/openssl.log" 2>&1; then
    cat "$STATE/openssl.log" >&2
    fail "could not make a certificate with openssl"
  fi
  chmod 600 "$STATE/key.pem"
  chmod 644 "$STATE/cert.pem"
}

# hand_root_to_ftptest: ftptest owns ROOT (it writes there as itself), everyone may read it,
# and both server identities must be able to reach it through every parent directory.
hand_root_to_ftptest() {
  getent passwd ftptest >/dev/null || fail "no user ftptest; run $SCRIPTS_DIR/install.sh first"
  getent passwd ftp >/dev/null || fail "no user ftp; run $SCRIPTS_DIR/install.sh first"
  chown -R ftptest:ftptest "$ROOT"
  chmod -R u+rwX,go+rX,go-w "$ROOT"
  local who
  for who in ftptest ftp; do
    runuser -u "$who" -- test -r "$ROOT" -a -x "$ROOT" \
      || fail "user $who cannot enter $ROOT: every parent directory must be world-searchable (chmod o+x; mktemp -d makes 0700 dirs)"
  done
}

# greets: true when something on [FTP_HOST]:PORT sends a line starting with 220.
greets() {
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    IFS= read -r -t 2 first <&3 || exit 1
    case "$first" in 220*) exit 0 ;; *) exit 1 ;; esac' "$FTP_HOST" "$PORT" 2>/dev/null
}

# holds_listener PID: PID has a listening TCP socket on PORT (so the 220 we read is its own,
# not the one of a server another script started on the same port a moment earlier).
holds_listener() {
  local want inode
  want=$(printf '%04X' "$PORT")
  # /proc/net/tcp{,6}: field 2 = local "ADDR:PORT" in hex, field 4 = state (0A = LISTEN), field 10 = inode
  for inode in $(awk -v p="$want" '$4 == "0A" { split($2, a, ":"); if (a[2] == p) print $10 }' \
      /proc/net/tcp /proc/net/tcp6 2>/dev/null); do
    if find "/proc/$1/fd" -maxdepth 1 -lname "socket:\[$inode\]" 2>/dev/null | grep -q .; then
      return 0
    fi
  done
  return 1
}

show_logs() {
  local f
  for f in "$@"; do
    if [ -s "$f" ]; then
      echo "----- $f (last lines)" >&2
      tail -n 25 "$f" >&2
    fi
  done
}

# await_greeting PID LOG...: up to 10 s for PID to listen on PORT and greet with 220;
# then prints PID on stdout. On failure shows the logs and exits 1.
await_greeting() {
  local pid="$1" tries
  shift
  for ((tries = 0; tries < 100; tries++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      show_logs "$@"
      fail "the server exited while starting (logs in $STATE)"
    fi
    if holds_listener "$pid" && greets; then
      echo "$pid" >"$STATE/server.pid"
      echo "$pid"
      return 0
    fi
    sleep 0.1
  done
  show_logs "$@"
  kill "$pid" 2>/dev/null || true
  fail "no 220 greeting on [$FTP_HOST]:$PORT within 10 s; stopped PID $pid (logs in $STATE)"
}
