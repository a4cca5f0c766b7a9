#!/usr/bin/env bash
# Start a throw-away PostgreSQL 15 server on 127.0.0.1 for tests and demos.
# Usage: scripts/pg-start.sh DIR PORT ADMIN_PASSWORD
# Data goes under DIR, the server's PID into DIR/postgres.pid; the admin role is
# "postgres". Waits until the server answers; fails loudly otherwise.
# Stop with scripts/pg-stop.sh DIR.
set -euo pipefail
dir=${1:?usage: pg-start.sh DIR PORT ADMIN_PASSWORD}
port=${2:?port}
password=${3:?admin password}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/postgres" ] || { echo "pg-start: PostgreSQL server binaries not found (apt-get install postgresql-15)" >&2; exit 1; }

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
run=()
if [ "$(id -u)" = 0 ]; then
	# PostgreSQL refuses to run as root; setpriv execs, so $! is the server's PID.
	chown postgres:postgres "$dir"
	run=(setpriv --reuid=postgres --regid=postgres --init-groups)
fi

if [ ! -f "$dir/data/PG_VERSION" ]; then
	umask 077
	printf '%s\n' "$password" >"$dir/.pw"
	[ "$(id -u)" = 0 ] && chown postgres:postgres "$dir/.pw"
	"${run[@]}" "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/.pw" \
		--auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; exit 1; }
	rm -f "$dir/.pw"
fi

"${run[@]}" "$bin/postgres" -D "$dir/data" -p "$port" -c listen_addresses=127.0.0.1 \
	-c unix_socket_directories="$dir" -c fsync=off -c max_connections=200 \
	>"$dir/postgres.log" 2>&1 &
pid=$!
echo "$pid" >"$dir/postgres.pid"
for _ in $(seq 1 200); do
	if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
		echo "pg-start: PostgreSQL ready on 127.0.0.1:$port (pid $pid, data $dir)"
		exit 0
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
echo "pg-start: PostgreSQL did not start on port $port; log follows" >&2
cat "$dir/postgres.log" >&2
exit 1
