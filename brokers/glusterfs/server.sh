#!/usr/bin/env bash
# A throw-away glusterd for tests and demos, as the broker expects its server: TLS material made
# with openssl (a CA, the bricks' certificate of CN osb-glusterfs-server), bricks under DIR/bricks,
# the CLI socket DIR/glusterd.socket and the state in DIR/wd.
# Usage: brokers/glusterfs/server.sh start DIR [PORT [SECRET]]
#        brokers/glusterfs/server.sh stop DIR
# glusterd has no admin login (root on its CLI socket is the admin): SECRET is unused. PORT is
# unused too: glusterd MUST listen on 24007 (its bricks are started with that port hard-wired), so
# one such server runs per machine; the tests that start it hold the ctest lock "glusterd".
# It listens on $OSB_GLUSTER_ADDR (default 127.0.1.1, a loopback address): GlusterFS refuses
# 127.0.0.1 and localhost as a brick's host, and a brick reaches glusterd on its brick host's
# address. start waits until glusterd answers its CLI and every started volume's bricks are
# online, and fails with glusterd's log otherwise; stop ends glusterd, the bricks under DIR and
# the daemons glusterd started (quotad), and waits for them. A restart with the same DIR keeps
# the volumes, which glusterd starts again.
set -euo pipefail
mode=${1:?usage: server.sh start DIR [PORT [SECRET]] | stop DIR}
dir=${2:?server directory}
addr=${OSB_GLUSTER_ADDR:-127.0.1.1}
# shellcheck source=scripts/lib/server.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/server.sh"

# pids_of_dir: the brick processes of this server (their --brick-name is under DIR) and the
# per-machine daemons glusterd started (one glusterd per machine: they are this one's).
pids_of_dir() {
	local p cmd
	for p in $(pgrep -x glusterfsd || true) $(pgrep -x glusterfs || true); do
		cmd=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) || continue
		case $cmd in
		*"--brick-name $dir/"* | *"--volfile-id gluster/"*) echo "$p" ;;
		esac
	done
}

stop() {
	local brick_prefix
	stop_pid_file "$dir/glusterd.pid"
	# shellcheck disable=SC2046
	stop_pids TERM 10 $(pids_of_dir)
	# The pid files of what was just stopped: a restarting glusterd that finds one whose process is
	# still a zombie (init reaps it later) takes the brick for running and never starts it again.
	brick_prefix="$addr-$(tr / - <<<"${dir#/}")-bricks-"
	rm -f /var/run/gluster/vols/*/"$brick_prefix"*.pid /var/run/gluster/quotad/quotad.pid
}

cli() { gluster --glusterd-sock="$dir/glusterd.socket" --mode=script "$@"; }

case $mode in
stop)
	dir=$(cd "$dir" 2>/dev/null && pwd) || exit 0
	stop
	exit 0
	;;
start) ;;
*)
	echo "glusterfs server.sh: unknown mode $mode" >&2
	exit 2
	;;
esac
for tool in glusterd gluster openssl; do
	command -v "$tool" >/dev/null ||
		{ echo "glusterfs server.sh: $tool not found (apt-get install glusterfs-server)" >&2; exit 1; }
done
mkdir -p "$dir/wd" "$dir/bricks" "$dir/tls"
dir=$(cd "$dir" && pwd)
stop
if ss -ltnH "sport = :24007" 2>/dev/null | grep -q .; then
	echo "glusterfs server.sh: something already listens on port 24007 (another glusterd?):" \
		"$(ss -ltnpH 'sport = :24007')" >&2
	exit 1
fi
# The TLS material, once: a CA that signs the bricks' certificate and (in the broker) the bindings'.
if [ ! -f "$dir/tls/server.pem" ]; then
	(
		cd "$dir/tls"
		openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=osb-glusterfs-test-ca \
			-keyout ca.key -out ca.pem 2>/dev/null
		openssl req -newkey rsa:2048 -nodes -subj /CN=osb-glusterfs-server -keyout server.key -out server.csr 2>/dev/null
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -out server.pem 2>/dev/null
		chmod 600 ca.key server.key
	) || { echo "glusterfs server.sh: openssl could not make the test certificates" >&2; exit 1; }
fi
cat >"$dir/glusterd.vol" <<EOF
volume management
  type mgmt/glusterd
  option working-directory $dir/wd
  option transport-type socket
  option transport.socket.bind-address $addr
  option transport.socket.listen-port 24007
  option transport.address-family inet
  option glusterd-sockfile $dir/glusterd.socket
  option base-port 44152
  option max-port 44600
end-volume
EOF
# glusterd and the daemons it starts work in their current directory: DIR, so that the tests'
# clean-up finds them.
cd "$dir"
glusterd -N -f "$dir/glusterd.vol" --log-file="$dir/glusterd.log" -p "$dir/glusterd.pid" >>"$dir/glusterd.out" 2>&1 &
pid=$!
echo "$pid" >"$dir/glusterd.pid"
for _ in $(seq 1 600); do
	if cli volume list >/dev/null 2>&1; then
		# Every started volume's bricks (and quotad) online: a brick that is not yet up refuses clients.
		status=$(cli volume status all --xml 2>/dev/null || true)
		if ! grep -q '<status>0</status>' <<<"$status" && grep -q '<opRet>0</opRet>' <<<"$status"; then
			echo "glusterfs server.sh: glusterd ready on $addr:24007 (pid $pid, bricks in $dir/bricks)"
			exit 0
		fi
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
echo "glusterfs server.sh: glusterd did not become ready on $addr:24007; its log follows" >&2
tail -n 40 "$dir/glusterd.log" "$dir/glusterd.out" >&2 2>/dev/null || true
stop
exit 1
