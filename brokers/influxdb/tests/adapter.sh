# Contract-test adapter of the InfluxDB broker (tests/contract/contract.sh): an InfluxDB 1.6 server
# (brokers/influxdb/server.sh), the credentials used with the influx CLI, tenants seen as the admin sees them.
# shellcheck shell=bash disable=SC2034
ADAPTER_PLAN=small
ADAPTER_MORE_PLANS=dedicated
ADAPTER_TOOLS="influxd influx curl"
ADAPTER_CREDENTIAL_KEYS="host hostname port name database username password uri http_url retention_policy"
ADAPTER_NO_SESSION_END="InfluxDB checks the login of every HTTP request, so a dropped user's next request is refused; a query \
already running is not tied to a user (SHOW QUERIES names none), so it runs to its end (the server's query-timeout)"
unset INFLUX_USERNAME INFLUX_PASSWORD || true

adapter_server_start() { "$ROOT/brokers/influxdb/server.sh" start "$1" "$2" "$3" >/dev/null; }
adapter_server_stop() { "$ROOT/brokers/influxdb/server.sh" stop "$1"; }
adapter_driver_config() {
	jq -cn --argjson port "$1" --arg pw "$2" --arg influxd "$(command -v influxd)" \
		'{port: $port, admin_user: "admin", admin_password: $pw, influxd: $influxd}'
}

# _ifx CREDS SPACE INFLUXQL: the influx CLI with CREDS's login on SPACE's database; fails on an ERR line
# (the CLI exits 0 after a refused write).
_ifx() {
	local out
	out=$(INFLUX_USERNAME=$(jq -r .username <<<"$1") INFLUX_PASSWORD=$(jq -r .password <<<"$1") timeout 20 \
		influx -host "$(jq -r .host <<<"$2")" -port "$(jq -r .port <<<"$2")" -database "$(jq -r .database <<<"$2")" \
		-format csv -execute "$3" 2>&1) || { echo "$out"; return 1; }
	echo "$out"
	! grep -q '^ERR' <<<"$out"
}
_ifx_admin() { curl -sf -u "admin:$SERVER_SECRET" -X POST "http://127.0.0.1:$SERVER_PORT/query" --data-urlencode "q=$1"; }
# adapter_access CREDS SPACE KEY [VALUE]: the point of measurement `contract` tagged k=KEY in SPACE's database.
adapter_access() {
	local out
	if [ $# -ge 4 ]; then
		_ifx "$1" "$2" "INSERT contract,k=$3 v=\"$4\""
	else
		out=$(_ifx "$1" "$2" "SELECT last(v) FROM contract WHERE k = '$3'") || { echo "$out"; return 1; }
		tail -n +2 <<<"$out" | cut -d, -f3-
	fi
}
adapter_tenants() {
	{
		_ifx_admin 'SHOW DATABASES' | jq -r '.results[0].series[0].values // [] | .[][0]'
		_ifx_admin 'SHOW USERS' | jq -r '.results[0].series[0].values // [] | .[][0]'
	} | grep '^osb_' | sort -u || true
}
adapter_orphan() { _ifx_admin "CREATE DATABASE \"$1\"" >/dev/null; }
