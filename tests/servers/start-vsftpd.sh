#!/usr/bin/env bash
# start-vsftpd.sh PORT ROOT -- vsftpd (unpacked by install.sh) in the background, on
# 127.0.0.1:PORT or, with FTP_HOST=::1, on [::1]:PORT. Conventions: see common.sh.
# Prints the PID on stdout, the state dir on stderr. Needs root. vsftpd has no MLSD/MLST.
#
# What it takes to make vsftpd behave here:
#  - one instance listens on IPv4 (listen=YES) or IPv6 (listen_ipv6=YES), never both;
#  - seccomp_sandbox=NO: with the sandbox, sessions die right after the 220 in containers;
#  - ftptest logs in through PAM: the service file install.sh wrote (pam_unix only);
#  - local_root=ROOT + chroot_local_user + allow_writeable_chroot, since ftptest owns ROOT;
#  - secure_chroot_dir must exist, be empty and owned by root;
#  - start-up errors ("500 OOPS: ...") are written to file descriptor 0, so fd 0 is a log file;
#  - require_ssl_reuse=YES (unless FTP_TLS_NO_REUSE=1): a PROT P data connection must resume
#    the control connection's TLS session, else 522 and the control connection is closed.
set -euo pipefail
NAME=vsftpd
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
read_args "$@"
require_root "$@"
BIN="$SERVERS_OPT/vsftpd/usr/sbin/vsftpd"
require_exe "$BIN"
[ -f /etc/pam.d/ftp-rs-test ] || fail "/etc/pam.d/ftp-rs-test is missing; run $SCRIPTS_DIR/install.sh"
new_state_dir
self_signed_cert
hand_root_to_ftptest
install -d -m 755 -o root -g root "$STATE/empty"

if [ "$FTP_HOST" = "::1" ]; then
  listen_lines="listen=NO
listen_ipv6=YES
listen_address6=::1"
else
  listen_lines="listen=YES
listen_ipv6=NO
listen_address=127.0.0.1"
fi
reuse=YES
[ "$TLS_NO_REUSE" = 1 ] && reuse=NO

cat >"$STATE/vsftpd.conf" <<CONF
$listen_lines
listen_port=$PORT
background=NO
seccomp_sandbox=NO
tcp_wrappers=NO
max_clients=300
max_per_ip=300
# anonymous: any password, read-only, at ROOT
anonymous_enable=YES
no_anon_password=YES
anon_root=$ROOT
anon_upload_enable=NO
anon_mkdir_write_enable=NO
anon_other_write_enable=NO
# ftptest (PAM, pam_unix): read-write, chrooted at ROOT
local_enable=YES
write_enable=YES
local_umask=022
local_root=$ROOT
chroot_local_user=YES
allow_writeable_chroot=YES
userlist_enable=NO
pam_service_name=ftp-rs-test
secure_chroot_dir=$STATE/empty
# data connections: passive range, active only to the client itself, not from port 20
pasv_enable=YES
pasv_min_port=$PASV_MIN
pasv_max_port=$PASV_MAX
port_enable=YES
port_promiscuous=NO
connect_from_port_20=NO
# explicit FTPS, offered but never required
ssl_enable=YES
allow_anon_ssl=YES
force_anon_logins_ssl=NO
force_anon_data_ssl=NO
force_local_logins_ssl=NO
force_local_data_ssl=NO
ssl_sslv2=NO
ssl_sslv3=NO
ssl_tlsv1=YES
ssl_ciphers=HIGH
require_ssl_reuse=$reuse
rsa_cert_file=$STATE/cert.pem
rsa_private_key_file=$STATE/key.pem
# logs: the whole protocol goes to vsftpd.log
xferlog_enable=YES
xferlog_std_format=NO
dual_log_enable=NO
log_ftp_protocol=YES
vsftpd_log_file=$STATE/vsftpd.log
CONF

"$BIN" "$STATE/vsftpd.conf" 0<>"$STATE/startup.log" >"$STATE/stdout.log" 2>&1 &
await_greeting $! "$STATE/startup.log" "$STATE/stdout.log" "$STATE/vsftpd.log"
