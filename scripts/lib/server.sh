# shellcheck shell=bash
# Sourced by the throw-away server scripts (brokers/*/server.sh, scripts/*-stop.sh): what
# every one of them does the same way.

# stop_pid_file FILE [SIGNAL] [SECONDS]: send SIGNAL (TERM) to the process whose PID FILE holds,
# wait up to SECONDS (10) for it to go, then KILL it. A zombie counts as gone: its parent (a
# test, a shell) may not reap it before it returns. No file or no process: nothing to do.
stop_pid_file() {
	local file=$1 signal=${2:-TERM} tries=$((${3:-10} * 20)) pid
	pid=$(cat "$file" 2>/dev/null) || return 0
	[ -n "$pid" ] || return 0
	kill -"$signal" "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 "$tries"); do
		kill -0 "$pid" 2>/dev/null || return 0
		[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && return 0
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
}
