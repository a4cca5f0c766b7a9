#!/usr/bin/env bash
# A throw-away InfluxDB 1.6 on 127.0.0.1 for the influxdb broker's tests and demos.
#
#   server.sh start DIR PORT SECRET   influxd with authentication on, its HTTP API on 127.0.0.1:PORT,
#                                     config, data, log and PID under DIR; the admin user "admin" has
#                                     the password SECRET (made on the first start); waits until the
#                                     admin's login answers
#   server.sh stop DIR                stop it (SIGTERM) and wait
#
# The RPC port (backup and restore, which InfluxDB 1.x serves without authentication) is bound to
# 127.0.0.1 on a port picked once and kept in DIR/rpc.port, so a restart on the same DIR comes back
# on the same ports with the same users and data.
set -euo pipefail
# shellcheck source=scripts/lib/server.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/server.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
mode=${1:?usage: server.sh start DIR PORT SECRET | stop DIR}
dir=${2:?directory}

die() {
	echo "influxdb server.sh: $*" >&2
	exit 1
}

stop() { stop_pid_file "$dir/influxd.pid"; }

# query USER PASSWORD STATEMENT: one InfluxQL statement over HTTP, the body on stdout.
query() {
	curl -sS -m 5 ${1:+-u "$1:$2"} -X POST "http://127.0.0.1:$port/query" --data-urlencode "q=$3"
}

start() {
	port=${3:?port}
	local secret=${4:?admin password} pid out
	command -v influxd >/dev/null || die "influxd not found (apt-get install influxdb)"
	case $secret in *[!A-Za-z0-9]*) die "the admin password must be letters and digits" ;; esac
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	[ -s "$dir/rpc.port" ] || "$root/scripts/free-port.sh" >"$dir/rpc.port"
	umask 077
	cat >"$dir/influxdb.conf" <<-CONF
		reporting-enabled = false
		bind-address = "127.0.0.1:$(cat "$dir/rpc.port")"
		[meta]
		  dir = "$dir/meta"
		[data]
		  dir = "$dir/data"
		  wal-dir = "$dir/wal"
		  query-log-enabled = true
		[http]
		  bind-address = "127.0.0.1:$port"
		  auth-enabled = true
		  log-enabled = true
		[monitor]
		  store-enabled = false
	CONF
	influxd run -config "$dir/influxdb.conf" -pidfile "$dir/influxd.pid" >>"$dir/influxd.log" 2>&1 &
	pid=$!
	for _ in $(seq 1 200); do
		out=$(query admin "$secret" "SHOW USERS" 2>/dev/null) || out=
		case $out in
		*'"results"'*)
			echo "influxdb server.sh: InfluxDB ready on 127.0.0.1:$port (pid $pid, dir $dir)"
			return 0
			;;
		*'create admin user first'*)
			# The first start: no user yet, so InfluxDB takes this one statement without a login.
			query "" "" "CREATE USER admin WITH PASSWORD '$secret' WITH ALL PRIVILEGES" >/dev/null
			continue
			;;
		esac
		pid_alive "$pid" || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
	die "InfluxDB did not start on 127.0.0.1:$port (last answer: ${out:-none}); its log ends: $(tail -n 30 "$dir/influxd.log")"
}

case $mode in
start) start "$@" ;;
stop) stop ;;
*) die "unknown mode $mode" ;;
esac
