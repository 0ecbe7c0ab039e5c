#!/usr/bin/env bash
# start-pyftpdlib.sh PORT ROOT -- pyftpdlib (venv made by install.sh, launcher
# pyftpdlib_launcher.py) in the background, on 127.0.0.1:PORT or, with FTP_HOST=::1, on
# [::1]:PORT. Conventions: see common.sh. Prints the PID on stdout, the state dir on stderr.
# Runs as the calling user; root is not needed and ROOT's ownership is left alone (files it
# stores belong to the caller).
set -euo pipefail
NAME=pyftpdlib
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
read_args "$@"
PY="$SERVERS_VENV/bin/python"
require_exe "$PY"
"$PY" -c 'import pyftpdlib, OpenSSL' >/dev/null 2>&1 \
  || fail "pyftpdlib or pyopenssl missing in $SERVERS_VENV; run $SCRIPTS_DIR/install.sh"
new_state_dir
self_signed_cert

"$PY" "$SCRIPTS_DIR/pyftpdlib_launcher.py" \
  --host "$FTP_HOST" --port "$PORT" --root "$ROOT" --state "$STATE" \
  --pasv "$PASV_MIN-$PASV_MAX" >"$STATE/stdout.log" 2>&1 </dev/null &
await_greeting $! "$STATE/stdout.log" "$STATE/pyftpdlib.log"
