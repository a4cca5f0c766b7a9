#!/usr/bin/env bash
# Time of a dedicated MySQL provision as a platform sees it: from the PUT (accepts_incomplete) to the
# last_operation answer "succeeded" (polled every 20 ms), for RUNS instances one after another, each
# deprovisioned before the next. The first run of a fresh broker includes the driver's one-time work
# (the data directory template); the others show the time of every later instance.
# Usage: bench/mysql-dedicated.sh BROKER_BINARY [RUNS]    (RUNS defaults to 6)
# BENCH_LOG=FILE keeps the broker's log. Needs mariadbd and mariadb-install-db, curl, jq. No shared server is started: dedicated plans never use it.
set -euo pipefail

broker_bin=${1:?usage: mysql-dedicated.sh BROKER_BINARY [RUNS]}
runs=${2:-6}
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "RUNS must be a positive integer" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/osb-mysql-bench.XXXXXX)
broker_pid=
cleanup() {
	set +e
	[ -n "${BENCH_LOG:-}" ] && cp "$work/broker.log" "$BENCH_LOG"
	[ -n "$broker_pid" ] && kill -TERM "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null
	for p in $(pgrep -f -- "--datadir=$work/" || true); do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT

catalog=$root/catalog/mysql.json
service_id=$(jq -r '.services[0].id' "$catalog")
plan=$(jq -r '.services[0].plans[] | select(.name == "dedicated") | .id' "$catalog")
broker_pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
broker_port=$("$root/scripts/free-port.sh")
unused_port=$("$root/scripts/free-port.sh" $((broker_port + 1)))
first=$("$root/scripts/free-port.sh" $((unused_port + 1)))
jq -n --arg listen "127.0.0.1:$broker_port" --arg pw "$broker_pw" --arg cat "$catalog" --arg data "$work/data" \
	--arg base "$work/dedicated" --argjson port "$unused_port" --argjson first "$first" '{
		listen: $listen, accounts: [{username: "broker", password: $pw}], catalog: $cat, data_dir: $data,
		store: {type: "sqlite"}, log_level: "info",
		dedicated: {port_range: [$first, ($first + 9)], base_dir: $base},
		driver: {host: "127.0.0.1", port: $port, admin_user: "root"}
	}' >"$work/broker.json"
mkdir -p "$work/data"
OSB_DRIVER_ADMIN_PASSWORD=unused "$broker_bin" --config "$work/broker.json" >"$work/broker.log" 2>&1 &
broker_pid=$!
for _ in $(seq 1 200); do
	curl -sf -o /dev/null "http://127.0.0.1:$broker_port/health/live" && break
	sleep 0.05
done

osb() { # METHOD PATH [BODY] -> $status, $body
	local args=(-s -o "$work/body" -w '%{http_code}' -X "$1" -u "broker:$broker_pw" -H 'X-Broker-API-Version: 2.17'
		-H 'Content-Type: application/json')
	[ -n "${3:-}" ] && args+=(--data "$3")
	status=$(curl "${args[@]}" "http://127.0.0.1:$broker_port$2") || status=000
	body=$(cat "$work/body" 2>/dev/null || true)
}
wait_done() { # INSTANCE -> $state
	state=
	for _ in $(seq 1 6000); do
		osb GET "/v2/service_instances/$1/last_operation?service_id=$service_id&plan_id=$plan"
		[ "$status" = 410 ] && { state=gone; return; }
		state=$(jq -r .state <<<"$body")
		[ "$state" != "in progress" ] && return
		sleep 0.02
	done
}

times=()
for n in $(seq 1 "$runs"); do
	id=$(cat /proc/sys/kernel/random/uuid)
	t0=$(date +%s%N)
	osb PUT "/v2/service_instances/$id?accepts_incomplete=true" \
		"$(jq -cn --arg s "$service_id" --arg p "$plan" '{service_id: $s, plan_id: $p, organization_guid: "o", space_guid: "s"}')"
	[ "$status" = 202 ] || { echo "provision $n: expected 202, got $status: $body" >&2; exit 1; }
	wait_done "$id"
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$state" = succeeded ] || { echo "provision $n: $state: $body" >&2; tail -n 20 "$work/broker.log" >&2; exit 1; }
	times+=("$ms")
	echo "provision $n: $ms ms"
	osb DELETE "/v2/service_instances/$id?service_id=$service_id&plan_id=$plan&accepts_incomplete=true"
	[ "$status" = 202 ] && wait_done "$id"
done
rest=("${times[@]:1}")
if [ ${#rest[@]} -gt 0 ]; then
	sorted=$(printf '%s\n' "${rest[@]}" | sort -n)
	echo "first: ${times[0]} ms; runs 2-$runs: median $(sed -n "$(((${#rest[@]} + 1) / 2))p" <<<"$sorted") ms," \
		"min $(head -n1 <<<"$sorted") ms, max $(tail -n1 <<<"$sorted") ms"
fi
grep -o 'template made in [^"]*' "$work/broker.log" | sed 's/^/broker: /' || true
