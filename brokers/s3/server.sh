#!/usr/bin/env bash
# A throw-away Ceph RADOS Gateway (S3) on 127.0.0.1 for the s3 broker's tests and demos.
#
#   server.sh cluster-start CDIR      a one-node Ceph cluster: ceph-mon and one ceph-osd keeping its
#                                     objects in memory (memstore), RGW's pools made; about 10 s
#   server.sh cluster-stop CDIR       stop it and wait
#   server.sh start DIR PORT SECRET   radosgw on 127.0.0.1:PORT on the cluster of $OSB_S3_CLUSTER
#                                     (a CDIR), its log and PID under DIR; the admin ops user has the
#                                     access key "admin" and the secret key SECRET
#   server.sh stop DIR                stop that radosgw and wait (the cluster and its data stay)
#
# A cluster takes seconds to start, a radosgw on it a fraction of one: tests share one cluster per
# ctest run (brokers/s3/tests/fixture.sh) and each starts and stops its own radosgw. The first start
# on a new DIR empties the gateway (every user and bucket goes, so a test starts from nothing, as on
# a server of its own); a restart on the same DIR keeps everything, as a real outage does. The
# cluster runs without cephx (auth none) on loopback only: it is a test server.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib/server.sh
. "$here/../../scripts/lib/server.sh"
mode=${1:?usage: server.sh cluster-start|cluster-stop CDIR | start DIR PORT SECRET | stop DIR}
dir=${2:?directory}

die() {
	echo "s3 server.sh: $*" >&2
	exit 1
}
# stop_pid FILE: stop_pid_file, then forget the PID, so that a later start never takes a reused PID
# for a server of its own.
stop_pid() {
	stop_pid_file "$1"
	rm -f "$1"
}
# show_log FILE...: the last lines of each, for a failure.
show_log() {
	local f
	for f in "$@"; do
		[ -f "$f" ] && { echo "--- last lines of $f ---" >&2; tail -n 30 "$f" >&2; }
	done
	return 0
}
need() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null || die "$tool not found (apt-get install ceph-mon ceph-osd radosgw)"
	done
}

# ceph_cmd CDIR ARGS...: the ceph CLI, tried again when it fails. Without cephx, a client's first
# command sometimes leaves before it learnt the cluster's fsid, and the monitor refuses it (EPERM).
ceph_cmd() {
	local cdir=$1
	shift
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		timeout 20 ceph -c "$cdir/ceph.conf" --connect-timeout 10 "$@" 2>>"$cdir/log/mkfs.log" && return 0
		sleep 0.2
	done
	return 1
}
# cluster_fail CDIR WHY [LOG...]: show the logs, stop what started, fail.
cluster_fail() {
	local cdir=$1 why=$2
	shift 2
	show_log "$@" "$cdir/log/mkfs.log"
	cluster_stop "$cdir"
	die "$why"
}

cluster_start() {
	local cdir=$1 mon_port fsid osd_uuid
	need monmaptool ceph-mon ceph-osd ceph radosgw-admin
	[ ! -e "$cdir/ceph.conf" ] || die "$cdir already holds a cluster"
	mkdir -p "$cdir/run" "$cdir/log" "$cdir/mon/mon.a" "$cdir/osd/osd.0"
	cdir=$(cd "$cdir" && pwd)
	mon_port=$("$here/../../scripts/free-port.sh")
	fsid=$(cat /proc/sys/kernel/random/uuid)
	# Loopback only, msgr v1, no cephx; one OSD, so pools of size 1 and one PG each; memstore keeps
	# the objects in RAM (up to 1 GiB), so nothing is written to disk and nothing needs cleaning.
	cat >"$cdir/ceph.conf" <<CONF
[global]
fsid = $fsid
monmap = $cdir/monmap
public addr = 127.0.0.1
ms bind msgr2 = false
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim allowed = false
mon data avail warn = 2
mon data avail crit = 1
paxos propose interval = 0.01
paxos min wait = 0.01
osd objectstore = memstore
memstore device bytes = 1073741824
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 1
osd pool default pgp num = 1
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
run dir = $cdir/run
admin socket = $cdir/run/\$name.asok
log file = $cdir/log/\$name.log
mon data = $cdir/mon/\$name
osd data = $cdir/osd/\$name
keyring = /dev/null
CONF
	echo "$mon_port" >"$cdir/mon.port"
	monmaptool --create --add a "v1:127.0.0.1:$mon_port" --fsid "$fsid" "$cdir/monmap" >/dev/null ||
		die "monmaptool failed"
	ceph-mon --mkfs -i a --monmap "$cdir/monmap" -c "$cdir/ceph.conf" >"$cdir/log/mkfs.log" 2>&1 ||
		cluster_fail "$cdir" "ceph-mon --mkfs failed"
	setsid ceph-mon -i a -f -c "$cdir/ceph.conf" </dev/null >>"$cdir/log/mon.out" 2>&1 &
	echo $! >"$cdir/mon.pid"
	osd_uuid=$(cat /proc/sys/kernel/random/uuid)
	ceph_cmd "$cdir" osd create "$osd_uuid" >"$cdir/osd.id" ||
		cluster_fail "$cdir" "the monitor did not answer" "$cdir/log/mon.out" "$cdir/log/mon.a.log"
	[ "$(cat "$cdir/osd.id")" = 0 ] || cluster_fail "$cdir" "unexpected OSD id $(cat "$cdir/osd.id")"
	ceph-osd -i 0 --mkfs --osd-uuid "$osd_uuid" -c "$cdir/ceph.conf" >>"$cdir/log/mkfs.log" 2>&1 ||
		cluster_fail "$cdir" "ceph-osd --mkfs failed"
	# The OSD gives up when the same race hits its first commands: start it again then.
	for _ in 1 2 3; do
		setsid ceph-osd -i 0 -f -c "$cdir/ceph.conf" </dev/null >>"$cdir/log/osd.out" 2>&1 &
		echo $! >"$cdir/osd.pid"
		for _ in $(seq 1 300); do
			ceph_cmd "$cdir" osd stat | grep -q '1 up' && break 2
			pid_alive "$(cat "$cdir/osd.pid")" || break
			sleep 0.1
		done
	done
	ceph_cmd "$cdir" osd stat | grep -q '1 up' ||
		cluster_fail "$cdir" "the OSD did not come up" "$cdir/log/osd.out" "$cdir/log/osd.0.log"
	# RGW's pools, made now rather than by the first radosgw and the first bucket (seconds each).
	local pool
	for pool in .rgw.root default.rgw.control default.rgw.meta default.rgw.log default.rgw.buckets.index \
		default.rgw.buckets.non-ec default.rgw.buckets.data; do
		if ! ceph_cmd "$cdir" osd pool create "$pool" 1 1 >/dev/null ||
			! ceph_cmd "$cdir" osd pool application enable "$pool" rgw >/dev/null; then
			cluster_fail "$cdir" "cannot create pool $pool"
		fi
	done
	timeout 60 radosgw-admin -c "$cdir/ceph.conf" user list >/dev/null 2>>"$cdir/log/mkfs.log" ||
		cluster_fail "$cdir" "radosgw-admin cannot use the cluster"
	echo "s3 server.sh: Ceph cluster ready (mon 127.0.0.1:$mon_port, memstore OSD), config $cdir/ceph.conf"
}

cluster_stop() {
	local cdir=$1
	[ -d "$cdir" ] || return 0
	stop_pid "$cdir/osd.pid"
	stop_pid "$cdir/mon.pid"
}

# rgw_admin ARGS...: radosgw-admin on the gateway's cluster (it talks to RADOS, not to radosgw).
rgw_admin() {
	timeout 60 radosgw-admin -c "$conf" "$@" 2>>"$dir/admin.log"
}

# empty_gateway: remove every user and bucket, so that a new test starts from nothing.
empty_gateway() {
	local b u
	for b in $(rgw_admin bucket list | jq -r '.[]'); do
		rgw_admin bucket rm --bucket="$b" --purge-objects >/dev/null || die "cannot remove bucket $b"
	done
	for u in $(rgw_admin user list | jq -r '.[]'); do
		rgw_admin user rm --uid="$u" --purge-data >/dev/null || die "cannot remove user $u"
	done
}

rgw_start() {
	local port=${3:?port} secret=${4:?admin secret} pid code
	need radosgw radosgw-admin jq curl
	case $secret in *[!A-Za-z0-9]*) die "the admin secret must be letters and digits" ;; esac
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if [ ! -f "$dir/cluster" ]; then
		[ -f "${OSB_S3_CLUSTER:-}/ceph.conf" ] || die "no Ceph cluster: OSB_S3_CLUSTER must name a directory" \
			"made by \`server.sh cluster-start\` (ctest starts one: the s3 fixture, brokers/s3/tests/fixture.sh)"
		(cd "$OSB_S3_CLUSTER" && pwd) >"$dir/cluster"
		conf=$(cat "$dir/cluster")/ceph.conf
		timeout 10 ceph -c "$conf" --connect-timeout 5 health >/dev/null 2>&1 ||
			die "the Ceph cluster of $conf does not answer (is its fixture running?)"
		empty_gateway
		rgw_admin user create --uid=osb-admin --display-name="OSB broker admin" --access-key=admin \
			--secret-key="$secret" --caps="users=*;buckets=*" >/dev/null || die "cannot create the admin user"
	fi
	conf=$(cat "$dir/cluster")/ceph.conf
	pid=$(cat "$dir/radosgw.pid" 2>/dev/null || true)
	pid_alive "$pid" && die "a radosgw already runs for $dir (pid $pid)"
	# Its own name, admin socket and log: several gateways may share the cluster. No lifecycle
	# threads: their 5 s sleeps hold up a stop, and tests set no lifecycle rules. The garbage
	# collector frees deleted objects' data after seconds instead of hours, for tests to see it go.
	setsid radosgw -f -c "$conf" -n "client.rgw.p$port" --rgw-frontends="beast endpoint=127.0.0.1:$port" \
		--admin-socket="$dir/radosgw.asok" --log-file="$dir/radosgw.log" --rgw-enable-usage-log=false \
		--rgw-enable-lc-threads=false --rgw-gc-obj-min-wait=1 --rgw-gc-processor-period=2 \
		</dev/null >>"$dir/radosgw.out" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/radosgw.pid"
	for _ in $(seq 1 300); do
		code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/") || code=000
		if [ "$code" = 200 ]; then
			echo "s3 server.sh: RGW ready on 127.0.0.1:$port (pid $pid, dir $dir)"
			return 0
		fi
		pid_alive "$pid" || break
		sleep 0.1
	done
	show_log "$dir/radosgw.out" "$dir/radosgw.log"
	stop_pid "$dir/radosgw.pid"
	die "radosgw did not answer on 127.0.0.1:$port"
}

case $mode in
cluster-start) cluster_start "$dir" ;;
cluster-stop) cluster_stop "$dir" ;;
start) rgw_start "$@" ;;
stop) stop_pid "$dir/radosgw.pid" ;;
*) die "unknown mode $mode" ;;
esac
