#!/usr/bin/env bash
# start-pure-ftpd.sh PORT ROOT -- Pure-FTPd (unpacked by install.sh) in the background, on
# 127.0.0.1:PORT or, with FTP_HOST=::1, on [::1]:PORT. Conventions: see common.sh.
# Prints the PID on stdout, the state dir on stderr. Needs root and unshare(1).
#
# What it takes to make Pure-FTPd behave here:
#  - anonymous sessions always land in the home directory of the system user `ftp`. Rather than
#    change that user, the server runs in its own mount namespace where ROOT is bind-mounted
#    over that home; nothing changes outside, and instances can serve different ROOTs at once.
#    `unshare` execs, so the PID we print is the server's;
#  - ftptest is a virtual user in a PureDB. `pure-pw useradd` would hash the password with a
#    slow KDF (seconds per login), so the passwd line is written here with a SHA-512 crypt
#    hash and only `pure-pw mkdb` is run;
#  - --minuid 1, since ftptest is a system user with a small uid.
set -euo pipefail
NAME=pure-ftpd
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
read_args "$@"
require_root "$@"
BASE="$SERVERS_OPT/pure-ftpd"
BIN="$BASE/usr/sbin/pure-ftpd"
require_exe "$BIN"
require_exe "$BASE/usr/bin/pure-pw"
command -v unshare >/dev/null || fail "unshare (util-linux) is missing; run $SCRIPTS_DIR/install.sh"
new_state_dir
self_signed_cert
hand_root_to_ftptest

# passwd format: user:hash:uid:gid:gecos:home/./ (the /./ chroots the user at home), then the
# optional per-user limits, all empty.
printf 'ftptest:%s:%s:%s::%s/./::::::::::::\n' \
  "$(openssl passwd -6 ftptest)" "$(id -u ftptest)" "$(id -g ftptest)" "$ROOT" >"$STATE/pureftpd.passwd"
chmod 600 "$STATE/pureftpd.passwd"
"$BASE/usr/bin/pure-pw" mkdb "$STATE/pureftpd.pdb" -f "$STATE/pureftpd.passwd" >&2

anon_home=$(getent passwd ftp | cut -d: -f6)
[ -n "$anon_home" ] || fail "user ftp has no home directory"
[ -d "$anon_home" ] || mkdir -p "$anon_home"

if [ "$FTP_HOST" = "::1" ]; then bind="::1,$PORT"; else bind="127.0.0.1,$PORT"; fi

unshare --mount --propagation private \
  sh -c 'mount --bind "$1" "$2" || exit 1; shift 2; exec "$@"' bind-root "$ROOT" "$anon_home" \
  "$BIN" \
    --bind "$bind" \
    --login "puredb:$STATE/pureftpd.pdb" \
    --anonymouscantupload \
    --chrooteveryone \
    --passiveportrange "$PASV_MIN:$PASV_MAX" \
    --tls 1 \
    --certfile "$STATE/cert.pem,$STATE/key.pem" \
    --altlog "clf:$STATE/transfer.log" \
    --dontresolve \
    --maxclientsnumber 300 \
    --maxclientsperip 300 \
    --minuid 1 \
    --umask 133:022 \
    --syslogfacility none \
    --pidfile "$STATE/pure-ftpd.pid" \
  >"$STATE/stdout.log" 2>&1 </dev/null &
await_greeting $! "$STATE/stdout.log"
