#!/usr/bin/env bash
# A throw-away ClickHouse 18.16 on 127.0.0.1 for the clickhouse broker's tests and demos.
#
#   server.sh start DIR PORT SECRET   clickhouse-server with its HTTP interface on 127.0.0.1:PORT and
#                                     its native protocol on a port picked once (DIR/tcp.port); config,
#                                     data and log under DIR; the user "admin" has the password SECRET
#                                     (as its SHA-256 in DIR/users.xml); users.d files in DIR/users.d
#                                     (which may be a symbolic link) are the broker's; waits until the
#                                     admin's login answers
#   server.sh stop DIR                stop it (SIGTERM) and wait
#
# A restart on the same DIR comes back on the same ports with the same databases and users.
set -euo pipefail
# shellcheck source=scripts/lib/server.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/server.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
mode=${1:?usage: server.sh start DIR PORT SECRET | stop DIR}
dir=${2:?directory}

die() {
	echo "clickhouse server.sh: $*" >&2
	exit 1
}

stop() { stop_pid_file "$dir/clickhouse.pid" TERM 15; }

start() {
	local port=${3:?port} secret=${4:?admin password} pid out=
	command -v clickhouse-server >/dev/null || die "clickhouse-server not found (apt-get install clickhouse-server)"
	case $secret in *[!A-Za-z0-9]*) die "the admin password must be letters and digits" ;; esac
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	mkdir -p "$dir/users.d"
	[ -s "$dir/tcp.port" ] || "$root/scripts/free-port.sh" >"$dir/tcp.port"
	umask 077
	cat >"$dir/config.xml" <<-XML
		<?xml version="1.0"?>
		<yandex>
		  <logger><level>information</level><log>$dir/server.log</log><errorlog>$dir/error.log</errorlog><size>10M</size><count>1</count></logger>
		  <listen_host>127.0.0.1</listen_host>
		  <http_port>$port</http_port>
		  <tcp_port>$(cat "$dir/tcp.port")</tcp_port>
		  <path>$dir/data/</path>
		  <tmp_path>$dir/tmp/</tmp_path>
		  <user_files_path>$dir/user_files/</user_files_path>
		  <format_schema_path>$dir/format_schemas/</format_schema_path>
		  <users_config>$dir/users.xml</users_config>
		  <default_profile>default</default_profile>
		  <default_database>default</default_database>
		  <mark_cache_size>67108864</mark_cache_size>
		  <uncompressed_cache_size>67108864</uncompressed_cache_size>
		  <mlock_executable>false</mlock_executable>
		</yandex>
	XML
	cat >"$dir/users.xml" <<-XML
		<?xml version="1.0"?>
		<yandex>
		  <profiles><default></default></profiles>
		  <quotas><default></default></quotas>
		  <users>
		    <admin>
		      <password_sha256_hex>$(printf %s "$secret" | sha256sum | cut -d' ' -f1)</password_sha256_hex>
		      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
		      <profile>default</profile>
		      <quota>default</quota>
		    </admin>
		  </users>
		</yandex>
	XML
	clickhouse-server --config-file="$dir/config.xml" >>"$dir/stdout.log" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/clickhouse.pid"
	for _ in $(seq 1 400); do
		out=$(curl -sS -m 5 -u "admin:$secret" "http://127.0.0.1:$port/" --data-binary 'SELECT 1' 2>&1) || out=
		if [ "$out" = 1 ]; then
			echo "clickhouse server.sh: ClickHouse ready on 127.0.0.1:$port (native $(cat "$dir/tcp.port"), pid $pid, dir $dir)"
			return 0
		fi
		pid_alive "$pid" || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
	die "ClickHouse did not start on 127.0.0.1:$port (last answer: ${out:-none}); its log ends: $(tail -n 30 "$dir/error.log" "$dir/stdout.log" 2>/dev/null)"
}

case $mode in
start) start "$@" ;;
stop) stop ;;
*) die "unknown mode $mode" ;;
esac
