#!/usr/bin/env bash
# Time of a ZooKeeper bind, unbind and deprovision on an instance holding ZNODES znodes: each walks
# every znode of the instance (ACLs set, or znodes deleted, a window of calls at a time). Starts a
# throw-away ZooKeeper (brokers/zookeeper/server.sh) and the broker, fills the instance with the test
# client (osb-zookeeper-zk-client, built next to the broker), and prints the driver's own timings.
# Usage: bench/zookeeper-acl.sh BROKER_BINARY [ZNODES]    (ZNODES defaults to 10000, plan medium)
set -euo pipefail
broker_bin=${1:?usage: zookeeper-acl.sh BROKER_BINARY [ZNODES]}
znodes=${2:-10000}
[[ $znodes =~ ^[1-9][0-9]*$ ]] || { echo "ZNODES must be a number" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
client=$(dirname "$broker_bin")/tests/osb-zookeeper-zk-client
[ -x "$client" ] || { echo "$client not built" >&2; exit 1; }
work=$(mktemp -d /tmp/osb-zookeeper-bench.XXXXXX)
broker_pid=
cleanup() {
	set +e
	[ -n "$broker_pid" ] && kill -TERM "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null
	"$root/brokers/zookeeper/server.sh" stop "$work/zk"
	rm -rf "$work"
}
trap cleanup EXIT

catalog=$work/catalog.json
# Plan medium with a quota that fits ZNODES (the instance's znode and /d count too).
jq --argjson n "$((znodes + 2))" '(.services[0].plans[] | select(.name == "medium") | ."x-osb".max_znodes) = $n' \
	"$root/catalog/zookeeper.json" >"$catalog"
service=$(jq -r '.services[0].id' "$catalog")
plan=$(jq -r '.services[0].plans[] | select(.name == "medium") | .id' "$catalog")
pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
zk_port=$("$root/scripts/free-port.sh")
broker_port=$("$root/scripts/free-port.sh" $((zk_port + 1)))
"$root/brokers/zookeeper/server.sh" start "$work/zk" "$zk_port" "$pw" >/dev/null
mkdir -p "$work/data"
jq -n --arg listen "127.0.0.1:$broker_port" --arg pw "$pw" --arg cat "$catalog" --arg data "$work/data" \
	--argjson port "$zk_port" '{listen: $listen, accounts: [{username: "broker", password: $pw}], catalog: $cat,
		data_dir: $data, log_level: "info", driver: {port: $port, admin_password: $pw}}' >"$work/broker.json"
"$broker_bin" --config "$work/broker.json" >"$work/broker.log" 2>&1 &
broker_pid=$!
for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$broker_port/health/ready" >/dev/null && break; sleep 0.05; done
osb() {
	curl -sf -u "broker:$pw" -H 'X-Broker-API-Version: 2.17' -H 'Content-Type: application/json' -X "$1" \
		"http://127.0.0.1:$broker_port$2" ${3:+--data "$3"}
}
body=$(jq -cn --arg s "$service" --arg p "$plan" '{service_id: $s, plan_id: $p, organization_guid: "o", space_guid: "s",
	bind_resource: {app_guid: "a"}}')
osb PUT /v2/service_instances/i >/dev/null "$body"
creds=$(osb PUT /v2/service_instances/i/service_bindings/b0 "$body" | jq -c .credentials)
at=$(jq -r .connect_string <<<"$creds")
auth=$(jq -r .auth <<<"$creds")
"$client" put "$at" "$auth" /d x
"$client" fill "$at" "$auth" /d "$znodes"
osb PUT /v2/service_instances/i/service_bindings/b1 "$body" >/dev/null
osb DELETE "/v2/service_instances/i/service_bindings/b1?service_id=$service&plan_id=$plan" >/dev/null
osb DELETE "/v2/service_instances/i?service_id=$service&plan_id=$plan" >/dev/null
echo "zookeeper: an instance of $((znodes + 2)) znodes on loopback"
jq -r 'select(.event == "zookeeper.bind" or .event == "zookeeper.unbind" or .event == "zookeeper.deprovision")
	| "\(.event): \(.msg | capture("(?<t>(done|failed) in [0-9]+ ms)").t)"' "$work/broker.log"
