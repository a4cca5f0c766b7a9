#!/usr/bin/env bash
# The Ceph cluster the s3 broker's tests share in one ctest run (fixture s3_server, see
# cmake/OsbBroker.cmake): a mon and a memstore OSD take seconds to start, a radosgw on them a
# fraction of one, so each test starts only its own radosgw (brokers/s3/server.sh start) on it.
# Usage: fixture.sh start|stop DIR   (the tests find DIR as $OSB_FIXTURES/s3)
set -euo pipefail
server=$(cd "$(dirname "$0")/.." && pwd)/server.sh
mode=${1:?usage: fixture.sh start|stop DIR}
dir=${2:?directory}
case $mode in
start)
	# What an interrupted run left behind goes first. A cluster that does not come up is made
	# once more from nothing, on another monitor port (a fresh Debian 12 run saw its OSD refused
	# once, 'wrong fsid', and never again in the runs after).
	for attempt in 1 2; do
		bash "$server" cluster-stop "$dir"
		rm -rf "$dir"
		bash "$server" cluster-start "$dir" && exit 0
		echo "fixture.sh: the Ceph cluster did not start (attempt $attempt of 2)" >&2
	done
	exit 1
	;;
stop)
	bash "$server" cluster-stop "$dir"
	rm -rf "$dir"
	;;
*) echo "fixture.sh: unknown mode $mode" >&2; exit 1 ;;
esac
