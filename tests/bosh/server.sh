#!/usr/bin/env bash
# Starts or stops a broker's real server through its test adapter (brokers/<mw>/tests/adapter.sh,
# written for the contract test), in the contract harness's environment (tests/lib/broker.sh), for
# brokers.sh. `start` prints the config's `driver` object for that server.
# Usage: server.sh start MW BROKER_BINARY DIR PORT SECRET
#        server.sh stop MW BROKER_BINARY DIR
set -euo pipefail
mode=${1:?usage: server.sh start|stop MW BROKER_BINARY DIR [PORT SECRET]}
mw=${2:?broker name}
dir=${4:?server directory}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BROKER_BIN=${3:?broker binary}
export ROOT BROKER_BIN
# shellcheck disable=SC1091
. "$ROOT/tests/lib/broker.sh"
# What the harness gives an adapter: a work directory, the server's port and admin password.
WORK=$(dirname "$dir")
SERVER_PORT=${5:-}
SERVER_SECRET=${6:-}
export WORK SERVER_PORT SERVER_SECRET
# shellcheck disable=SC1090
. "$ROOT/brokers/$mw/tests/adapter.sh"
case $mode in
start)
	adapter_server_start "$dir" "$SERVER_PORT" "$SERVER_SECRET" >&2
	adapter_driver_config "$SERVER_PORT" "$SERVER_SECRET"
	;;
stop) adapter_server_stop "$dir" ;;
*) fail "server.sh: unknown mode $mode" ;;
esac
