#!/usr/bin/env bash
# start-proftpd.sh PORT ROOT -- ProFTPD with mod_tls (unpacked by install.sh) in the background,
# on 127.0.0.1:PORT or, with FTP_HOST=::1, on [::1]:PORT. Conventions: see common.sh.
# Prints the PID on stdout, the state dir on stderr. Needs root.
#
# What it takes to make the unpacked ProFTPD behave here:
#  - its modules are not where it was built to look: ModulePath + LoadModule mod_tls.c;
#  - everything it would write under /run or /var goes to the state dir (scoreboard, PID file,
#    delay table), the controls socket is off, no wtmp, no PAM;
#  - ftptest is a virtual user (AuthUserFile, same uid/gid as the system user) whose home is
#    ROOT, chrooted there by "DefaultRoot ~"; RequireValidShell off;
#  - SocketBindTight on, or it also listens on the wildcard address;
#  - AllowStoreRestart on, else APPE and REST+STOR are refused;
#  - TLS session reuse on data connections is required (mod_tls's default) unless
#    FTP_TLS_NO_REUSE=1: a data connection that does not resume gets 425.
set -euo pipefail
NAME=proftpd
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
read_args "$@"
require_root "$@"
BASE="$SERVERS_OPT/proftpd"
BIN="$BASE/usr/sbin/proftpd"
require_exe "$BIN"
new_state_dir
self_signed_cert
hand_root_to_ftptest

uid=$(id -u ftptest)
gid=$(id -g ftptest)
anon_group=$(id -gn ftp)
daemon_group=$(id -gn nobody)
printf 'ftptest:%s:%s:%s:ftp-rs test user:%s:/usr/sbin/nologin\n' \
  "$(openssl passwd -6 ftptest)" "$uid" "$gid" "$ROOT" >"$STATE/ftpd.passwd"
printf 'ftptest:x:%s:\n' "$gid" >"$STATE/ftpd.group"
chmod 600 "$STATE/ftpd.passwd" "$STATE/ftpd.group"

ipv6=off
[ "$FTP_HOST" = "::1" ] && ipv6=on
if [ "$TLS_NO_REUSE" = 1 ]; then
  tls_options="TLSOptions NoSessionReuseRequired"
else
  tls_options="# data connections must resume the control connection's TLS session"
fi

cat >"$STATE/proftpd.conf" <<CONF
ServerType            standalone
ServerName            "ProFTPD ftp-rs test"
DefaultServer         on
UseIPv6               $ipv6
DefaultAddress        $FTP_HOST
SocketBindTight       on
Port                  $PORT
User                  nobody
Group                 $daemon_group
Umask                 022
MaxInstances          300
UseReverseDNS         off
WtmpLog               off
AuthPAM               off
ControlsEngine        off
DelayEngine           off
ScoreboardFile        $STATE/proftpd.scoreboard
PidFile               $STATE/proftpd.pid
DelayTable            $STATE/proftpd.delay
SystemLog             $STATE/proftpd.log
TransferLog           $STATE/xferlog
LogFormat             commands "%t %a %u \"%r\" %s"
ExtendedLog           $STATE/commands.log ALL commands
ModulePath            $BASE/usr/lib/proftpd
LoadModule            mod_tls.c

AuthOrder             mod_auth_file.c mod_auth_unix.c
AuthUserFile          $STATE/ftpd.passwd
AuthGroupFile         $STATE/ftpd.group
RequireValidShell     off
UseFtpUsers           off
DefaultRoot           ~
AllowOverwrite        on
AllowStoreRestart     on
PassivePorts          $PASV_MIN $PASV_MAX

<IfModule mod_tls.c>
  TLSEngine                on
  TLSRequired              off
  TLSProtocol              TLSv1.2 TLSv1.3
  TLSRSACertificateFile    $STATE/cert.pem
  TLSRSACertificateKeyFile $STATE/key.pem
  TLSVerifyClient          off
  TLSRenegotiate           none
  TLSLog                   $STATE/tls.log
  $tls_options
</IfModule>

<Anonymous $ROOT>
  User                ftp
  Group               $anon_group
  UserAlias           anonymous ftp
  RequireValidShell   off
  MaxClients          200
  <Limit WRITE SITE_CHMOD>
    DenyAll
  </Limit>
</Anonymous>
CONF

"$BIN" --nodaemon --config "$STATE/proftpd.conf" >"$STATE/stdout.log" 2>&1 </dev/null &
await_greeting $! "$STATE/stdout.log" "$STATE/proftpd.log"
