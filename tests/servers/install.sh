#!/usr/bin/env bash
# install.sh -- puts in place everything the start-*.sh scripts need, and nothing that runs on
# its own. Safe to run again: each step is skipped when its result is already there.
#
#   vsftpd, ProFTPD (+ mod_tls from proftpd-mod-crypto), Pure-FTPd
#       Their Debian packages all "Provide/Conflict: ftp-server", so apt would keep only one of
#       them. Instead each .deb is fetched with `apt-get download` and unpacked with `dpkg-deb -x`
#       under $FTP_SERVERS_HOME/opt/<server>; only the shared libraries they link against are
#       apt-installed. No package gets to start a daemon (policy-rc.d says no while we run).
#   pyftpdlib + pyopenssl    in a venv, $FTP_SERVERS_HOME/venv (from PyPI)
#   openssl, python3, util-linux (unshare), procps
#   users `ftp` (the anonymous identity) and `ftptest` (password "ftptest", SHA-512 crypt)
#   /etc/pam.d/ftp-rs-test: pam_unix only, for vsftpd's ftptest logins
#
# Usage:  install.sh           install what is missing (root, or password-less sudo)
#         install.sh --check   install nothing; exit 0 when all four servers can be started
# FTP_SERVERS_HOME defaults to ${XDG_CACHE_HOME:-~/.cache}/ftp-rs-test-servers.
# Debian/Ubuntu only (apt-get + dpkg-deb). apt output goes to $FTP_SERVERS_HOME/apt.log.
set -euo pipefail

FTP_SERVERS_HOME="${FTP_SERVERS_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/ftp-rs-test-servers}"
OPT="$FTP_SERVERS_HOME/opt"
DEBS="$FTP_SERVERS_HOME/debs"
VENV="$FTP_SERVERS_HOME/venv"
APT_LOG="$FTP_SERVERS_HOME/apt.log"
PAM_SERVICE=ftp-rs-test
PAM_FILE="/etc/pam.d/$PAM_SERVICE"
PAM_TEXT="# Written by ftp-rs tests/servers/install.sh for vsftpd test instances:
# checks the password with pam_unix, nothing else (no shell or ftpusers checks), and
# without pam_unix's ~2 s pause after a wrong password (vsftpd adds its own 1 s).
auth     required pam_unix.so nodelay
account  required pam_unix.so
session  required pam_permit.so"
PY_PACKAGES=("pyftpdlib>=2,<3" "pyopenssl")
export DEBIAN_FRONTEND=noninteractive

say() { printf 'install.sh: %s\n' "$*" >&2; }
fail() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }

# Everything the start scripts look for, in one place (used by --check and at the end).
missing_pieces() {
  local m=()
  [ -x "$OPT/vsftpd/usr/sbin/vsftpd" ] && [ -f "$OPT/vsftpd/.installed" ] || m+=("vsftpd")
  [ -x "$OPT/proftpd/usr/sbin/proftpd" ] && [ -f "$OPT/proftpd/.installed" ] \
    && [ -f "$OPT/proftpd/usr/lib/proftpd/mod_tls.so" ] || m+=("proftpd")
  [ -x "$OPT/pure-ftpd/usr/sbin/pure-ftpd" ] && [ -f "$OPT/pure-ftpd/.installed" ] || m+=("pure-ftpd")
  "$VENV/bin/python" -c 'import pyftpdlib, OpenSSL' >/dev/null 2>&1 || m+=("pyftpdlib")
  command -v openssl >/dev/null || m+=("openssl")
  command -v unshare >/dev/null || m+=("unshare")
  getent passwd ftp >/dev/null || m+=("user-ftp")
  getent passwd ftptest >/dev/null || m+=("user-ftptest")
  [ "$(cat "$PAM_FILE" 2>/dev/null || true)" = "$PAM_TEXT" ] || m+=("$PAM_FILE")
  printf '%s\n' "${m[@]}"
}

if [ "${1:-}" = "--check" ]; then
  left=$(missing_pieces)
  if [ -z "$left" ]; then exit 0; fi
  say "missing: $(echo $left)"
  exit 1
fi
[ $# -eq 0 ] || fail "usage: install.sh [--check]"

command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null \
  || fail "only Debian/Ubuntu are supported (apt-get and dpkg-deb are needed)"

# --- privileges -----------------------------------------------------------------------------------
if [ "$(id -u)" -eq 0 ]; then
  ROOT_CMD=()
  CAN_ROOT=1
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  ROOT_CMD=(sudo -n env DEBIAN_FRONTEND=noninteractive)
  CAN_ROOT=1
else
  ROOT_CMD=()
  CAN_ROOT=0
fi
as_root() {
  if [ "$CAN_ROOT" -ne 1 ]; then
    fail "this step needs root: $*
  Run install.sh as root or with password-less sudo. Root is needed to apt-get install the
  servers' shared libraries, openssl and python3-venv, to create the users 'ftp' and 'ftptest',
  and to write $PAM_FILE. vsftpd, ProFTPD and Pure-FTPd must also be started as root."
  fi
  "${ROOT_CMD[@]}" "$@"
}

# Nothing to do (the common case on a second run, and the only one that works without root).
if [ -z "$(missing_pieces)" ] && [ "$CAN_ROOT" -ne 1 ]; then
  say "everything is already installed in $FTP_SERVERS_HOME"
  exit 0
fi

mkdir -p "$FTP_SERVERS_HOME" "$OPT" "$DEBS"

# --- apt, quietly ---------------------------------------------------------------------------------
POLICY=/usr/sbin/policy-rc.d
OUR_POLICY=0
restore_policy() { if [ "$OUR_POLICY" -eq 1 ]; then as_root rm -f "$POLICY"; fi; }
trap restore_policy EXIT
forbid_daemons() {  # packages must not start services while we install
  if [ "$OUR_POLICY" -eq 0 ] && [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\n# ftp-rs install.sh: no service starts during installation\nexit 101\n' \
      | as_root tee "$POLICY" >/dev/null
    as_root chmod 755 "$POLICY"
    OUR_POLICY=1
  fi
}

LISTS_FRESH=0
refresh_lists() {
  if [ "$LISTS_FRESH" -eq 0 ]; then
    say "apt-get update"
    as_root apt-get update -qq >>"$APT_LOG" 2>&1 \
      || { tail -n 20 "$APT_LOG" >&2; fail "apt-get update failed (see $APT_LOG)"; }
    LISTS_FRESH=1
  fi
}
# A fresh machine (e.g. a container) has no package lists at all: fetch them first.
if ! compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null; then refresh_lists; fi

is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

apt_install() {  # apt_install PKG... (already-installed ones are skipped)
  local todo=() p
  for p in "$@"; do is_installed "$p" || todo+=("$p"); done
  [ ${#todo[@]} -gt 0 ] || return 0
  forbid_daemons
  say "apt-get install ${todo[*]}"
  if ! as_root apt-get install -y -qq --no-install-recommends "${todo[@]}" >>"$APT_LOG" 2>&1; then
    # stale lists are the usual reason: refresh once and try again
    refresh_lists
    as_root apt-get install -y -qq --no-install-recommends "${todo[@]}" >>"$APT_LOG" 2>&1 \
      || { tail -n 20 "$APT_LOG" >&2; fail "apt-get install ${todo[*]} failed (see $APT_LOG)"; }
  fi
}

fetch_deb() {  # fetch_deb PKG -> prints the path of its .deb in $DEBS
  local pkg="$1" found
  found=$(find "$DEBS" -maxdepth 1 -name "${pkg}_*.deb" | head -n 1)
  if [ -z "$found" ]; then
    say "apt-get download $pkg"
    if ! (cd "$DEBS" && apt-get download -qq "$pkg" >>"$APT_LOG" 2>&1); then
      refresh_lists
      (cd "$DEBS" && apt-get download -qq "$pkg" >>"$APT_LOG" 2>&1) \
        || { tail -n 20 "$APT_LOG" >&2; fail "apt-get download $pkg failed (see $APT_LOG)"; }
    fi
    found=$(find "$DEBS" -maxdepth 1 -name "${pkg}_*.deb" | head -n 1)
  fi
  [ -n "$found" ] || fail "no .deb for $pkg in $DEBS"
  echo "$found"
}

# --- basic tools ----------------------------------------------------------------------------------
tools=()
command -v openssl >/dev/null || tools+=(openssl)
command -v python3 >/dev/null || tools+=(python3)
command -v unshare >/dev/null || tools+=(util-linux)
command -v runuser >/dev/null || tools+=(util-linux)
command -v useradd >/dev/null || tools+=(passwd)
command -v ps >/dev/null || tools+=(procps)
command -v timeout >/dev/null || tools+=(coreutils)
command -v mount >/dev/null || tools+=(mount)
[ -f /etc/ssl/certs/ca-certificates.crt ] || tools+=(ca-certificates)
if [ ${#tools[@]} -gt 0 ]; then apt_install $(printf '%s\n' "${tools[@]}" | sort -u); fi

# --- the three daemons, each unpacked in its own directory ----------------------------------------
unpack_server() {  # unpack_server NAME BINARY PKG...
  local name="$1" binary="$2"
  shift 2
  local dest="$OPT/$name"
  if [ -x "$dest/$binary" ] && [ -f "$dest/.installed" ]; then
    return 0
  fi
  rm -rf "$dest"
  mkdir -p "$dest"
  local pkg deb dep libs
  for pkg in "$@"; do
    deb=$(fetch_deb "$pkg")
    dpkg-deb -x "$deb" "$dest"
    # Only the libraries it links against: the ftp-server packages, inetd and debconf bits that
    # a normal install would drag in are exactly what we avoid.
    libs=()
    for dep in $(dpkg-deb -f "$deb" Depends | tr ',' '\n' \
        | sed -e 's/|.*//' -e 's/(.*)//' -e 's/:any//' -e 's/[[:space:]]//g'); do
      case "$dep" in lib* | zlib*) libs+=("$dep") ;; esac
    done
    if [ ${#libs[@]} -gt 0 ]; then apt_install "${libs[@]}"; fi
  done
  if ldd "$dest/$binary" 2>&1 | grep -q 'not found'; then
    ldd "$dest/$binary" | grep 'not found' >&2
    fail "$name: $binary links against libraries that are not installed"
  fi
  touch "$dest/.installed"
  say "$name unpacked into $dest"
}
unpack_server vsftpd usr/sbin/vsftpd vsftpd
unpack_server proftpd usr/sbin/proftpd proftpd-core proftpd-mod-crypto
unpack_server pure-ftpd usr/sbin/pure-ftpd pure-ftpd
[ -f "$OPT/proftpd/usr/lib/proftpd/mod_tls.so" ] \
  || fail "proftpd: mod_tls.so is not in $OPT/proftpd/usr/lib/proftpd (proftpd-mod-crypto)"

# --- pyftpdlib ------------------------------------------------------------------------------------
if ! "$VENV/bin/python" -c 'import pyftpdlib, OpenSSL' >/dev/null 2>&1; then
  if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    pyver=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    if apt-cache show "python${pyver}-venv" >/dev/null 2>&1; then
      apt_install "python${pyver}-venv"
    else
      apt_install python3-venv
    fi
  fi
  say "making $VENV with ${PY_PACKAGES[*]} (PyPI)"
  rm -rf "$VENV"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PY_PACKAGES[@]}" >&2 \
    || fail "pip install ${PY_PACKAGES[*]} failed"
fi

# --- users, password, PAM -------------------------------------------------------------------------
NOLOGIN=/usr/sbin/nologin
[ -x "$NOLOGIN" ] || NOLOGIN=/bin/false
if ! getent passwd ftp >/dev/null; then
  say "adding system user ftp (identity of anonymous sessions)"
  as_root useradd --system --user-group --home-dir /srv/ftp --no-create-home --shell "$NOLOGIN" ftp
fi
ftp_home=$(getent passwd ftp | cut -d: -f6)
[ -d "$ftp_home" ] || as_root mkdir -p "$ftp_home"
if ! getent passwd ftptest >/dev/null; then
  say "adding system user ftptest (password ftptest)"
  as_root useradd --system --user-group --home-dir /var/lib/ftptest --create-home \
    --shell "$NOLOGIN" ftptest
fi
# Set the password only when the stored hash is not a SHA-512 crypt of "ftptest" (yescrypt or
# another slow hash would make every vsftpd login noticeably slow).
hash=$(as_root getent shadow ftptest | cut -d: -f2)
salt=$(printf '%s' "$hash" | cut -s -d'$' -f3)
if [ "${hash:0:3}" != '$6$' ] || [ "$(openssl passwd -6 -salt "$salt" ftptest)" != "$hash" ]; then
  say "setting the password of ftptest"
  echo 'ftptest:ftptest' | as_root chpasswd -c SHA512
fi
if [ "$(cat "$PAM_FILE" 2>/dev/null || true)" != "$PAM_TEXT" ]; then
  say "writing $PAM_FILE"
  printf '%s\n' "$PAM_TEXT" | as_root tee "$PAM_FILE" >/dev/null
fi

left=$(missing_pieces)
[ -z "$left" ] || fail "still missing after installation: $(echo $left)"
say "ready: $("$OPT/vsftpd/usr/sbin/vsftpd" -v 0>&1 2>&1 | head -n 1 || true)," \
  "$("$OPT/proftpd/usr/sbin/proftpd" -v 2>&1 | head -n 1)," \
  "pure-ftpd $(dpkg-deb -f "$(fetch_deb pure-ftpd)" Version)," \
  "pyftpdlib $("$VENV/bin/python" -c 'import pyftpdlib; print(pyftpdlib.__ver__)')" \
  "(in $FTP_SERVERS_HOME)"
