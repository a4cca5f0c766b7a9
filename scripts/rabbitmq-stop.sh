#!/usr/bin/env bash
# Stop a node started by scripts/rabbitmq-start.sh DIR, and the epmd it started, by PID; wait for both.
set -u
dir=${1:?usage: rabbitmq-stop.sh DIR}
env=$dir/rabbitmq.env
[ -f "$env" ] || exit 0
pid=$(sed -n 's/^PID=//p' "$env")
epmd_pid=$(sed -n 's/^EPMD_PID=//p' "$env")
epmd_port=$(sed -n 's/^EPMD_PORT=//p' "$env")

alive() {
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
	# A killed child of PID 1 stays a zombie for a while: that is gone too.
	[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}
comm_is() {
	[ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]
}
stop_pid() {
	local p=$1 n
	alive "$p" || return 0
	kill -TERM "$p" 2>/dev/null
	for _ in $(seq 1 300); do
		alive "$p" || return 0
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null
	for _ in $(seq 1 50); do
		alive "$p" || return 0
		sleep 0.1
	done
}

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
