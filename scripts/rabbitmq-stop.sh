#!/usr/bin/env bash
# Stop a node started by scripts/rabbitmq-start.sh DIR, and the epmd it started, by PID; wait for both.
set -u
dir=${1:?usage: rabbitmq-stop.sh DIR}
env=$dir/rabbitmq.env
[ -f "$env" ] || exit 0
pid=$(sed -n 's/^PID=//p' "$env")
epmd_pid=$(sed -n 's/^EPMD_PID=//p' "$env")
epmd_port=$(sed -n 's/^EPMD_PORT=//p' "$env")
# shellcheck source=scripts/lib/server.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"

comm_is() {
	[ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]
}
# A node may take its time to stop cleanly: 30 s before SIGKILL.
stop_pid() { stop_pids TERM 30 "$1"; }

if [ -n "$pid" ]; then
	# The start script runs beam.smp as its child; stopping beam ends the node cleanly.
	beam=$(pgrep -P "$pid" beam.smp 2>/dev/null | head -n 1 || true)
	if [ -n "$beam" ]; then
		stop_pid "$beam"
	fi
	stop_pid "$pid"
fi
# epmd outlives the node (it is re-parented to PID 1); the start script recorded its PID.
if [ -z "$epmd_pid" ] && [ -n "$epmd_port" ]; then
	epmd_pid=$(ss -ltnpH "sport = :$epmd_port" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2)
fi
if [ -n "$epmd_pid" ] && comm_is "$epmd_pid" epmd; then
	stop_pid "$epmd_pid"
fi
exit 0
