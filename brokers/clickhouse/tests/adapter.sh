# Contract-test adapter of the ClickHouse broker (tests/contract/contract.sh): a ClickHouse 18.16 server
# (brokers/clickhouse/server.sh) whose users.d the broker writes, the credentials used over the HTTP
# interface (the one every plan has), tenants seen as the admin sees them.
# shellcheck shell=bash disable=SC2034
ADAPTER_PLAN=small
ADAPTER_MORE_PLANS=dedicated
ADAPTER_TOOLS="clickhouse-server curl"
ADAPTER_CREDENTIAL_KEYS="host hostname port name database username password uri jdbcUrl http_url"

# The server's users.d is a link to a directory named from $WORK alone: the contract writes the
# broker's config before it starts the server.
_ch_users() { echo "$WORK/clickhouse-users.d"; }
adapter_server_start() {
	mkdir -p "$(_ch_users)" "$1"
	[ -e "$1/users.d" ] || ln -s "$(_ch_users)" "$1/users.d"
	"$ROOT/brokers/clickhouse/server.sh" start "$1" "$2" "$3" >/dev/null
}
adapter_server_stop() { "$ROOT/brokers/clickhouse/server.sh" stop "$1"; }
adapter_driver_config() {
	mkdir -p "$(_ch_users)"
	jq -cn --argjson port "$1" --arg pw "$2" --arg users "$(_ch_users)" --arg server "$(command -v clickhouse-server)" \
		'{port: $port, admin_user: "admin", admin_password: $pw, users_dir: $users, clickhouse_server: $server}'
}

# _ch CREDS SPACE SQL: one statement with CREDS's login on SPACE's database; prints the answer, fails unless 200.
_ch() {
	local out
	out=$(curl -sS -m "${CH_TIMEOUT:-20}" -u "$(jq -r '"\(.username):\(.password)"' <<<"$1")" -w '\n%{http_code}' \
		"$(jq -r .http_url <<<"$2")?database=$(jq -r .database <<<"$2")" --data-binary "$3" 2>&1) || { echo "$out"; return 1; }
	echo "${out%$'\n'*}"
	[ "${out##*$'\n'}" = 200 ]
}
# _ch_admin PORT SQL: as the admin of the shared server, or of the dedicated one on PORT.
_ch_admin() {
	local pw=$SERVER_SECRET
	[ "$1" = "$SERVER_PORT" ] || pw=$(dedicated_secret "$1")
	curl -sf -m 20 -u "admin:$pw" "http://127.0.0.1:$1/" --data-binary "$2"
}
# adapter_access CREDS SPACE KEY [VALUE]: the latest row of KEY in table `contract` of SPACE's database.
adapter_access() {
	if [ $# -ge 4 ]; then
		_ch "$1" "$2" 'CREATE TABLE IF NOT EXISTS contract (k String, v String, t UInt64) ENGINE = MergeTree ORDER BY (k, t)' &&
			_ch "$1" "$2" "INSERT INTO contract VALUES ('$3', '$4', $(date +%s%N))"
	else
		_ch "$1" "$2" "SELECT argMax(v, t) FROM contract WHERE k = '$3'"
	fi
}
adapter_session() { CH_TIMEOUT=60 _ch "$1" "$1" 'SELECT count() FROM system.numbers'; }
adapter_sessions() {
	_ch_admin "$(jq -r .port <<<"$1")" "SELECT count() FROM system.processes WHERE user = '$(jq -r .username <<<"$1")'"
}
adapter_tenants() {
	{
		_ch_admin "$SERVER_PORT" 'SELECT name FROM system.databases'
		find "$(_ch_users)" -maxdepth 1 -name 'osb_*.xml' -printf '%f\n' | cut -d. -f1
	} | grep '^osb_' | sort -u || true
}
adapter_orphan() { _ch_admin "$SERVER_PORT" "CREATE DATABASE $1" >/dev/null; }
