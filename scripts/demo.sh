#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running PostgreSQL broker:
# installs what is needed, builds, starts a throw-away PostgreSQL on 127.0.0.1 and
# the broker (embedded SQLite state store), checks it answers, and prints how to call it.
#   scripts/demo.sh               run in the foreground; Ctrl-C stops the broker and PostgreSQL
#   scripts/demo.sh --background  leave both running and return; stop with: scripts/demo.sh --stop
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
demo=${OSB_DEMO_DIR:-/tmp/osb-demo}
mode=${1:-}

stop_all() {
	[ -f "$demo/broker.pid" ] && kill "$(cat "$demo/broker.pid")" 2>/dev/null || true
	for _ in $(seq 1 100); do
		[ -f "$demo/broker.pid" ] && kill -0 "$(cat "$demo/broker.pid")" 2>/dev/null || break
		sleep 0.1
	done
	rm -f "$demo/broker.pid"
	"$root/scripts/pg-stop.sh" "$demo/pg" 2>/dev/null || true
}

if [ "$mode" = --stop ]; then
	stop_all
	echo "demo stopped (data kept in $demo; rm -rf it to start afresh)"
	exit 0
fi

[ "${OSB_SKIP_INSTALL:-0}" = 1 ] || "$root/scripts/install-deps.sh"
OSB_BUILD_TYPE=Release "$root/scripts/build.sh" "$root/build"
broker_bin="$root/build/brokers/postgresql/osb-postgresql-broker"

stop_all
mkdir -p "$demo"
chmod 755 "$demo"
if [ ! -f "$demo/secrets" ]; then
	umask 077
	printf 'PG_PASSWORD=%s\nBROKER_PASSWORD=%s\n' "$(openssl rand -hex 16)" "$(openssl rand -hex 12)" >"$demo/secrets"
	umask 022
fi
# shellcheck disable=SC1091
. "$demo/secrets"
pg_port=$("$root/scripts/free-port.sh" 25432)
"$root/scripts/pg-start.sh" "$demo/pg" "$pg_port" "$PG_PASSWORD"
port=$("$root/scripts/free-port.sh" "${OSB_DEMO_PORT:-8080}")

cat >"$demo/config.json" <<JSON
{
  "listen": "127.0.0.1:$port",
  "accounts": [{"username": "broker", "password": "$BROKER_PASSWORD"}],
  "catalog": "$root/catalog/postgresql.json",
  "data_dir": "$demo/data",
  "store": {"type": "sqlite"},
  "log_level": "info",
  "driver": {"host": "127.0.0.1", "port": $pg_port, "admin_user": "postgres"}
}
JSON
chmod 600 "$demo/config.json" "$demo/secrets"
export OSB_DRIVER_ADMIN_PASSWORD=$PG_PASSWORD
"$broker_bin" --check-config --config "$demo/config.json"
"$broker_bin" --config "$demo/config.json" >>"$demo/broker.log" 2>&1 &
echo $! >"$demo/broker.pid"
for _ in $(seq 1 100); do
	curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break
	sleep 0.05
done
curl -sf -u "broker:$BROKER_PASSWORD" -H 'X-Broker-API-Version: 2.17' "http://127.0.0.1:$port/v2/catalog" >/dev/null ||
	{ echo "the broker did not answer; log:" >&2; tail -20 "$demo/broker.log" >&2; stop_all; exit 1; }

svc=$(jq -r '.services[0].id' "$root/catalog/postgresql.json")
plan=$(jq -r '.services[0].plans[0].id' "$root/catalog/postgresql.json")
B="http://broker:$BROKER_PASSWORD@127.0.0.1:$port"
cat <<TXT

The PostgreSQL broker is serving on http://127.0.0.1:$port (PostgreSQL on 127.0.0.1:$pg_port).
Logs: $demo/broker.log   State store: $demo/data/state.db

  # the catalog
  curl -s -H 'X-Broker-API-Version: 2.17' $B/v2/catalog | jq .
  # create a database (an instance)
  curl -s -X PUT -H 'X-Broker-API-Version: 2.17' -H 'Content-Type: application/json' \\
    $B/v2/service_instances/demo-1 \\
    -d '{"service_id":"$svc","plan_id":"$plan","organization_guid":"org","space_guid":"space"}'
  # bind it: returns credentials (uri, username, password...)
  curl -s -X PUT -H 'X-Broker-API-Version: 2.17' -H 'Content-Type: application/json' \\
    $B/v2/service_instances/demo-1/service_bindings/bind-1 -d '{"service_id":"$svc","plan_id":"$plan"}' | jq .
  # use them:  psql "\$(curl -s ... | jq -r .credentials.uri)"
  # unbind and delete
  curl -s -X DELETE -H 'X-Broker-API-Version: 2.17' "$B/v2/service_instances/demo-1/service_bindings/bind-1?service_id=$svc&plan_id=$plan"
  curl -s -X DELETE -H 'X-Broker-API-Version: 2.17' "$B/v2/service_instances/demo-1?service_id=$svc&plan_id=$plan"

Or with the osb client (docs/cli.md), which names instances for you and waits for operations:

  . $demo/secrets; export OSB_HOME=$demo/osb OSB_BROKER_USERNAME=broker OSB_BROKER_PASSWORD=\$BROKER_PASSWORD
  $root/build/cli/osb register-broker demo http://127.0.0.1:$port
  $root/build/cli/osb marketplace
  $root/build/cli/osb create-service postgresql small mydb
  $root/build/cli/osb bind-service mydb app1        # prints the credentials
  $root/build/cli/osb delete-service mydb -f
  $root/build/cli/osb marketplace --serve 127.0.0.1:8090   # the marketplace page, until Ctrl-C
  curl -s -u broker:\$BROKER_PASSWORD http://127.0.0.1:$port/usage/events | jq .   # usage records

Register it with Cloud Foundry / PaaS-TA:  cf create-service-broker postgresql broker $BROKER_PASSWORD http://<host>:$port
TXT

if [ "$mode" = --background ]; then
	echo "Running in the background. Stop with: $root/scripts/demo.sh --stop"
	exit 0
fi
echo "Press Ctrl-C to stop the broker and PostgreSQL."
trap 'echo; stop_all; exit 0' INT TERM
wait "$(cat "$demo/broker.pid")" || true
stop_all
