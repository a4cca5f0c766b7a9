# shellcheck shell=bash
# Sourced by the throw-away server scripts (brokers/*/server.sh, scripts/*-stop.sh): what
# every one of them does the same way.

# pid_alive PID: the process runs. A zombie counts as gone: its parent (a test, a shell, PID 1)
# may not reap it before the caller goes on.
pid_alive() {
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# stop_pids SIGNAL SECONDS PID...: send SIGNAL to every PID, wait up to SECONDS for all of them to
# go, then KILL those left and wait up to 5 s more. No PID, or none running: nothing to do.
stop_pids() {
	local signal=$1 tries=$(($2 * 20)) n p left
	shift 2
	[ "$#" -gt 0 ] || return 0
	kill -"$signal" "$@" 2>/dev/null || true
	for ((n = 0; n <= tries + 100; n++)); do
		left=
		for p in "$@"; do
			pid_alive "$p" && { left=$p; break; }
		done
		[ -n "$left" ] || return 0
		[ "$n" = "$tries" ] && { kill -KILL "$@" 2>/dev/null || true; }
		sleep 0.05
	done
}

# stop_pid_file FILE [SIGNAL] [SECONDS]: stop_pids for the process whose PID FILE holds (TERM, 10 s).
# No file or no process: nothing to do.
stop_pid_file() {
	local pid
	pid=$(cat "$1" 2>/dev/null) || return 0
	[ -n "$pid" ] || return 0
	stop_pids "${2:-TERM}" "${3:-10}" "$pid"
}
