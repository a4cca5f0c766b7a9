#!/usr/bin/env bash
# A throw-away memcached 1.6 with SASL on 127.0.0.1, as the broker's dedicated servers run, for
# tests and demos.
# Usage: brokers/memcached/server.sh start DIR PORT SECRET   (SASL user "admin", password SECRET)
#        brokers/memcached/server.sh stop DIR
# DIR holds memcached.conf (Cyrus SASL: PLAIN against DIR/sasldb2), the users, the log and the PID.
# start waits until the admin's login is taken (memcstat) and fails with the server's log otherwise;
# stop sends SIGTERM and waits.
set -euo pipefail
# shellcheck source=scripts/lib/server.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/server.sh"
mode=${1:?usage: server.sh start DIR PORT SECRET | stop DIR}
dir=${2:?server directory}

stop() { stop_pid_file "$dir/memcached.pid" TERM 5; }

start() {
	local port=${1:?port} secret=${2:?admin password} tool pid
	for tool in memcached saslpasswd2 memcstat; do
		command -v "$tool" >/dev/null ||
			{ echo "memcached server.sh: $tool not found (apt-get install memcached sasl2-bin libmemcached-tools)" >&2; exit 1; }
	done
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	umask 077
	printf 'mech_list: plain\npwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: %s/sasldb2\n' "$dir" \
		>"$dir/memcached.conf"
	# The realm is the host's name: memcached's own (it passes gethostname() to Cyrus SASL).
	printf '%s' "$secret" | SASL_CONF_PATH=$dir saslpasswd2 -p -c -a memcached -u "$(hostname)" -f "$dir/sasldb2" admin
	# -S: SASL only (ASCII protocol and UDP refused); -u root is needed when run as root and ignored otherwise.
	SASL_CONF_PATH=$dir memcached -S -B binary -U 0 -l 127.0.0.1 -p "$port" -u root -m 64 -c 256 \
		>>"$dir/memcached.log" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/memcached.pid"
	for _ in $(seq 1 200); do
		if memcstat --binary -u admin -p "$secret" -s "127.0.0.1:$port" >/dev/null 2>&1; then
			echo "memcached server.sh: memcached ready on 127.0.0.1:$port (pid $pid, dir $dir)"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "memcached server.sh: memcached did not start on port $port; log follows" >&2
	cat "$dir/memcached.log" >&2
	stop
	exit 1
}

case $mode in
start) start "${3:-}" "${4:-}" ;;
stop) stop ;;
*) echo "usage: server.sh start DIR PORT SECRET | stop DIR" >&2; exit 2 ;;
esac
