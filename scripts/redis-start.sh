#!/usr/bin/env bash
# Start a throw-away Redis 7 server on 127.0.0.1 for tests and demos.
# Usage: scripts/redis-start.sh DIR PORT ADMIN_PASSWORD
# Config, ACL file, log and the server's PID (DIR/redis.pid) go under DIR. The
# default user is off; the admin user "admin" has every permission. Waits until
# the server answers PING as admin; fails loudly otherwise.
# With REDIS_NO_ACLFILE=1 the server has no ACL file: the default user is the
# admin, with requirepass (users made at run time then live in memory only).
# Stop with scripts/redis-stop.sh DIR.
set -euo pipefail
dir=${1:?usage: redis-start.sh DIR PORT ADMIN_PASSWORD}
port=${2:?port}
password=${3:?admin password}
command -v redis-server >/dev/null || { echo "redis-start: redis-server not found (apt-get install redis-server)" >&2; exit 1; }
command -v redis-cli >/dev/null || { echo "redis-start: redis-cli not found (apt-get install redis-tools)" >&2; exit 1; }
case $password in
*[[:space:]]* | '') echo "redis-start: the admin password must not be empty or contain spaces" >&2; exit 1 ;;
esac

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
umask 077
user=admin
if [ "${REDIS_NO_ACLFILE:-0}" = 1 ]; then
	user=default
	auth="requirepass $password"
else
	if [ ! -f "$dir/users.acl" ]; then
		printf 'user default off\nuser admin on >%s ~* &* +@all\n' "$password" >"$dir/users.acl"
	fi
	auth="aclfile $dir/users.acl"
fi
cat >"$dir/redis.conf" <<CONF
bind 127.0.0.1
port $port
dir $dir
daemonize no
save ""
appendonly no
$auth
logfile $dir/redis.log
CONF

redis-server "$dir/redis.conf" >>"$dir/redis.log" 2>&1 &
pid=$!
echo "$pid" >"$dir/redis.pid"
for _ in $(seq 1 200); do
	if [ "$(REDISCLI_AUTH=$password redis-cli --no-auth-warning -h 127.0.0.1 -p "$port" --user "$user" PING 2>/dev/null)" = PONG ]; then
		echo "redis-start: Redis ready on 127.0.0.1:$port (pid $pid, dir $dir)"
		exit 0
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
echo "redis-start: Redis did not start on port $port; log follows" >&2
cat "$dir/redis.log" >&2
kill "$pid" 2>/dev/null || true
exit 1
