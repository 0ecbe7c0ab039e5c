#!/usr/bin/env bash
# stop.sh PID... -- stops servers started by the start-*.sh scripts: SIGTERM to each PID and to
# every process below it (the per-session children of vsftpd, ProFTPD and Pure-FTPd), then
# SIGKILL to whatever is still alive after 5 s. A PID that is already gone is not an error.
# State dirs are kept, for reading the logs afterwards.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $(basename "$0") PID..." >&2; exit 2; }

below() {  # every descendant of $1
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$child"
    below "$child"
  done
}

running() {  # exists and is not a zombie
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "${state:0:1}" != Z ]
}

status=0
for pid in "$@"; do
  if ! [[ "$pid" =~ ^[0-9]+$ ]] || [ "$pid" -le 1 ]; then
    echo "stop.sh: not a PID: '$pid'" >&2
    status=2
    continue
  fi
  running "$pid" || continue
  # shellcheck disable=SC2207
  victims=("$pid" $(below "$pid"))
  kill -TERM "${victims[@]}" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    alive=()
    for v in "${victims[@]}"; do running "$v" && alive+=("$v"); done
    [ ${#alive[@]} -eq 0 ] && break
    sleep 0.1
  done
  if [ ${#alive[@]} -gt 0 ]; then
    echo "stop.sh: still alive after 5 s, SIGKILL: ${alive[*]}" >&2
    kill -KILL "${alive[@]}" 2>/dev/null || true
  fi
done
exit $status
