#!/usr/bin/env bash
# A throw-away etcd 3.4 server on 127.0.0.1 for tests and demos, with authentication on.
# Usage: server.sh start DIR PORT SECRET   (clients on 127.0.0.1:PORT, user root with password SECRET)
#        server.sh stop DIR
# Data, log (DIR/etcd.log) and PID (DIR/etcd.pid) go under DIR. The one member talks to its peers
# on a unix socket in DIR, so it needs no second port. The first start makes the user root (role
# root) and turns authentication on, through the v3 JSON gateway; a restart with the same DIR
# keeps both. History is compacted every 5 minutes (--auto-compaction-retention), so the past
# revisions of deleted keys do not stay for ever. Waits until root can log in; fails loudly
# with the server's log otherwise.
set -euo pipefail
# shellcheck source=scripts/lib/server.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/server.sh"
mode=${1:?usage: server.sh start DIR PORT SECRET | stop DIR}
dir=${2:?server directory}

stop() { stop_pid_file "$dir/etcd.pid"; }

die() {
	echo "etcd server.sh: $*; log follows" >&2
	cat "$dir/etcd.log" >&2 || true
	stop
	exit 1
}

# post PATH: a v3 gateway call with the JSON body on stdin (secrets never on a command line);
# the token, if any, in $token. Prints the answer; fails on a non-2xx status.
post() {
	curl -sf -m 5 -X POST ${token:+-H "Authorization: $token"} --data-binary @- "http://127.0.0.1:$port$1"
}

case $mode in
stop)
	stop
	exit 0
	;;
start) ;;
*) echo "usage: server.sh start DIR PORT SECRET | stop DIR" >&2; exit 2 ;;
esac
port=${3:?port}
secret=${4:?admin password}
command -v etcd >/dev/null || { echo "etcd server.sh: etcd not found (apt-get install etcd-server)" >&2; exit 1; }
case $secret in
*[!A-Za-z0-9._~+/=-]*) echo "etcd server.sh: the admin password must be [A-Za-z0-9._~+/=-]" >&2; exit 1 ;;
esac
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
first=0
[ -d "$dir/data/member" ] || first=1

# The peer socket's name is relative: etcd binds it in its working directory, DIR.
(
	cd "$dir"
	exec etcd --name osb --data-dir "$dir/data" \
		--listen-client-urls "http://127.0.0.1:$port" --advertise-client-urls "http://127.0.0.1:$port" \
		--listen-peer-urls unix://peer:1 --initial-advertise-peer-urls unix://peer:1 \
		--initial-cluster osb=unix://peer:1 --initial-cluster-state new \
		--auto-compaction-mode periodic --auto-compaction-retention 5m
) >>"$dir/etcd.log" 2>&1 &
echo $! >"$dir/etcd.pid"

token=
for _ in $(seq 1 200); do
	if [ "$first" = 1 ]; then
		curl -sf -m 2 "http://127.0.0.1:$port/health" 2>/dev/null | grep -q '"true"' && break
	else
		printf '{"name":"root","password":"%s"}' "$secret" | post /v3/auth/authenticate >/dev/null 2>&1 && break
	fi
	kill -0 "$(cat "$dir/etcd.pid")" 2>/dev/null || die "etcd exited"
	sleep 0.05
done
if [ "$first" = 1 ]; then
	printf '{"name":"root","password":"%s"}' "$secret" | post /v3/auth/user/add >/dev/null ||
		die "cannot add user root"
	echo '{"user":"root","role":"root"}' | post /v3/auth/user/grant >/dev/null || die "cannot grant role root"
	echo '{}' | post /v3/auth/enable >/dev/null || die "cannot enable authentication"
fi
answer=$(printf '{"name":"root","password":"%s"}' "$secret" | post /v3/auth/authenticate 2>/dev/null) ||
	die "root cannot log in on port $port"
token=$(jq -r .token <<<"$answer")
echo '{}' | post /v3/auth/role/list >/dev/null || die "root's token is refused"
echo "etcd server.sh: etcd ready on 127.0.0.1:$port (pid $(cat "$dir/etcd.pid"), dir $dir)"
