#!/usr/bin/env bash
# Print a TCP port on 127.0.0.1 that nothing listens on, from an unprivileged range.
# Usage: scripts/free-port.sh [START]
set -u
port=${1:-$((20000 + RANDOM % 20000))}
while ss -ltnH "sport = :$port" 2>/dev/null | grep -q .; do port=$((port + 1)); done
echo "$port"
