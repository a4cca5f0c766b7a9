#!/usr/bin/env bash
# A throw-away svnserve for tests and demos on 127.0.0.1:PORT, serving DIR/repos (driver.root).
# Usage: brokers/svn/server.sh start DIR PORT [SECRET]   (svnserve has no admin login: SECRET is unused)
#        brokers/svn/server.sh stop DIR
# svnserve runs as the calling user, the one the broker runs as: the repositories' passwd files are
# plain text of mode 0600 that only that user reads. A restart with the same DIR keeps the repositories.
set -euo pipefail
# shellcheck source=scripts/lib/server.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/server.sh"
mode=${1:?usage: server.sh start DIR PORT [SECRET] | stop DIR}
dir=${2:?server directory}

stop() { stop_pid_file "$dir/server.pid"; }

# greets PORT: svnserve sends "( success ( ..." on a new connection.
greets() {
	local line=
	exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
	read -r -t 2 line <&3 || true
	exec 3<&-
	[[ $line == "( success ( "* ]]
}

case $mode in
stop)
	stop
	exit 0
	;;
start) ;;
*)
	echo "server.sh: unknown mode $mode" >&2
	exit 2
	;;
esac
port=${3:?port}
command -v svnserve >/dev/null || { echo "svn server.sh: svnserve not found (apt-get install subversion)" >&2; exit 1; }
mkdir -p "$dir/repos"
dir=$(cd "$dir" && pwd)
chmod 700 "$dir/repos"
stop
svnserve --daemon --foreground --listen-host 127.0.0.1 --listen-port "$port" --root "$dir/repos" \
	--log-file "$dir/svnserve.log" >>"$dir/svnserve.out" 2>&1 &
pid=$!
echo "$pid" >"$dir/server.pid"
for _ in $(seq 1 200); do
	if greets "$port" 2>/dev/null; then
		echo "svn server.sh: svnserve ready on 127.0.0.1:$port (pid $pid, repositories in $dir/repos)"
		exit 0
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
echo "svn server.sh: svnserve did not start on port $port; its output follows" >&2
cat "$dir/svnserve.out" "$dir/svnserve.log" >&2 2>/dev/null || true
kill "$pid" 2>/dev/null || true
exit 1
