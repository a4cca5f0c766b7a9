#!/usr/bin/env bash
# Stop a server started by scripts/pg-start.sh DIR (fast shutdown) and wait for it.
set -u
dir=${1:?usage: pg-stop.sh DIR}
pid=$(cat "$dir/postgres.pid" 2>/dev/null) || exit 0
kill -INT "$pid" 2>/dev/null || exit 0
for _ in $(seq 1 100); do
	kill -0 "$pid" 2>/dev/null || exit 0
	grep -q '^Z' <(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) && exit 0
	sleep 0.05
done
kill -KILL "$pid" 2>/dev/null
exit 0
