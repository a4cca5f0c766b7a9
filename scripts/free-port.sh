#!/usr/bin/env bash
# Print a TCP port on 127.0.0.1 that nothing listens on, from 20000-32767: below the kernel's
# range for outgoing connections (32768 and up), so a client's source port never takes it.
# Usage: scripts/free-port.sh [START]
set -u
port=${1:-$((20000 + RANDOM % 12000))}
[ "$port" -ge 20000 ] && [ "$port" -le 32767 ] || port=$((20000 + port % 12768))
tries=0
while ss -ltnH "sport = :$port" 2>/dev/null | grep -q .; do
	port=$((port + 1))
	[ "$port" -le 32767 ] || port=20000
	tries=$((tries + 1))
	[ "$tries" -lt 12768 ] || { echo "free-port: no free port in 20000-32767" >&2; exit 1; }
done
echo "$port"
