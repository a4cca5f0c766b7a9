#!/usr/bin/env bash
# A throw-away ZooKeeper 3.8 (standalone) on 127.0.0.1 for tests and demos, set up as the ZooKeeper
# broker expects an operator's server to be (README.md, "The server"): the admin password is the
# digest super user "super", quotas are enforced, the AdminServer (Jetty) is off, and the root
# and /zookeeper/quota are read-only for everyone else, so that bindings can write only inside
# their instance's znode.
# Usage: server.sh start DIR PORT ADMIN_PASSWORD    (config, data and log under DIR)
#        server.sh stop DIR
# Waits until the super user is in; fails loudly with the server's log otherwise.
set -euo pipefail
# shellcheck source=scripts/lib/server.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/server.sh"
mode=${1:?usage: server.sh start DIR PORT ADMIN_PASSWORD | stop DIR}
dir=${2:?server directory}
classpath=${ZOOKEEPER_CLASSPATH:-/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar}

stop() { stop_pid_file "$dir/zookeeper.pid"; }

# zk_admin PORT PASSWORD COMMAND...: ZooKeeper's own shell (zkCli) as the super user, commands on stdin.
zk_admin() {
	local port=$1 password=$2
	shift 2
	{
		printf 'addauth digest super:%s\n' "$password"
		printf '%s\n' "$@"
	} | timeout 30 java -cp "${classpath%%:*}:/usr/share/java/slf4j-nop.jar" org.apache.zookeeper.ZooKeeperMain \
		-server "127.0.0.1:$port" 2>&1
}

if [ "$mode" = stop ]; then
	stop
	exit 0
fi
[ "$mode" = start ] || { echo "server.sh: unknown mode $mode" >&2; exit 2; }
port=${3:?port}
password=${4:?admin password}
command -v java >/dev/null || { echo "zookeeper server.sh: java not found (apt-get install zookeeper)" >&2; exit 1; }
[ -f "${classpath%%:*}" ] || { echo "zookeeper server.sh: ${classpath%%:*} not found (apt-get install zookeeper)" >&2; exit 1; }

mkdir -p "$dir/data"
dir=$(cd "$dir" && pwd)
umask 077
cat >"$dir/zoo.cfg" <<CFG
tickTime=2000
dataDir=$dir/data
clientPort=$port
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr
CFG
# The super user's digest is base64(sha1("super:" + password)); an argument file keeps it off ps.
digest=$(printf 'super:%s' "$password" | openssl dgst -sha1 -binary | base64)
cat >"$dir/jvm.args" <<ARGS
-Xmx256m
-Dorg.slf4j.simpleLogger.defaultLogLevel=info
-Dzookeeper.DigestAuthenticationProvider.superDigest=super:$digest
-Dzookeeper.enforceQuota=true
-cp
$classpath
org.apache.zookeeper.server.ZooKeeperServerMain
$dir/zoo.cfg
ARGS

java "@$dir/jvm.args" >>"$dir/zookeeper.log" 2>&1 &
pid=$!
echo "$pid" >"$dir/zookeeper.pid"
for _ in $(seq 1 400); do
	# "ruok" answers "imok" once the server listens; sessions may be refused a little longer.
	if [ "$( (exec 3<>"/dev/tcp/127.0.0.1/$port" && printf ruok >&3 && timeout 2 cat <&3) 2>/dev/null)" = imok ]; then
		for _ in 1 2 3 4 5; do
			out=$(zk_admin "$port" "$password" 'setAcl / world:anyone:r' 'setAcl /zookeeper/quota world:anyone:r' \
				'getAcl /') || true
			if grep -q "^: r$" <<<"$out"; then
				echo "zookeeper server.sh: ZooKeeper ready on 127.0.0.1:$port (pid $pid, dir $dir)"
				exit 0
			fi
			sleep 0.2
		done
		echo "zookeeper server.sh: the super user could not lock the root: $out" >&2
		break
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
echo "zookeeper server.sh: ZooKeeper did not start on port $port; log follows" >&2
cat "$dir/zookeeper.log" >&2
stop
exit 1
