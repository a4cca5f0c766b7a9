#!/usr/bin/env bash
# Stop a server started by scripts/mariadb-start.sh DIR (clean shutdown on SIGTERM) and wait for it.
set -u
dir=${1:?usage: mariadb-stop.sh DIR}
pid=$(cat "$dir/mysqld.pid" 2>/dev/null) || exit 0
kill -TERM "$pid" 2>/dev/null || exit 0
for _ in $(seq 1 200); do
	kill -0 "$pid" 2>/dev/null || exit 0
	grep -q '^Z' <(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) && exit 0
	sleep 0.05
done
kill -KILL "$pid" 2>/dev/null
exit 0
