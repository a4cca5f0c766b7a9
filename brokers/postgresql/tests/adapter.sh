# Contract-test adapter of the PostgreSQL broker (tests/contract/contract.sh): a PostgreSQL 15 server,
# the credentials used with psql, tenants seen in pg_database and pg_roles. integration.sh uses it too.
# shellcheck shell=bash disable=SC2034
ADAPTER_PLAN=small
ADAPTER_TOOLS="psql"
ADAPTER_CREDENTIAL_KEYS="host hostname port name database username password uri jdbcUrl"
ADAPTER_DOWN_REASON=connect
unset PGPASSWORD PGUSER PGHOST PGPORT PGDATABASE PGSERVICE || true
export PGCONNECT_TIMEOUT=5

adapter_server_start() { "$ROOT/scripts/pg-start.sh" "$1" "$2" "$3" >/dev/null; }
adapter_server_stop() { "$ROOT/scripts/pg-stop.sh" "$1" >/dev/null; }
adapter_driver_config() {
	jq -cn --argjson port "$1" --arg pw "$2" '{port: $port, admin_user: "postgres", admin_password: $pw, sslmode: "disable"}'
}

# pg_admin [DATABASE]: psql as the admin (on database postgres by default); SQL on stdin.
# shellcheck disable=SC2120 # integration.sh names databases
pg_admin() {
	PGPASSWORD=$SERVER_SECRET psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$SERVER_PORT" -U postgres -d "${1:-postgres}"
}
# The login of binding CREDS on the database of binding SPACE.
_pg_uri() {
	jq -rn --argjson c "$1" --argjson s "$2" \
		'"postgresql://\($c.username | @uri):\($c.password | @uri)@\($s.host):\($s.port)/\($s.database | @uri)"'
}
# adapter_access CREDS SPACE KEY [VALUE]: a row of table kv in SPACE's database (psql variables quote KEY and VALUE).
adapter_access() {
	local uri
	uri=$(_pg_uri "$1" "$2")
	if [ $# -ge 4 ]; then
		psql -X -q -At -v ON_ERROR_STOP=1 -v k="$3" -v v="$4" -d "$uri" 2>&1 <<-'SQL'
			CREATE TABLE IF NOT EXISTS kv (k text PRIMARY KEY, v text);
			INSERT INTO kv VALUES (:'k', :'v') ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v;
		SQL
	else
		psql -X -q -At -v ON_ERROR_STOP=1 -v k="$3" -d "$uri" 2>&1 <<<"SELECT v FROM kv WHERE k = :'k';"
	fi
}
adapter_session() { psql -X -q -At -d "$(jq -r .uri <<<"$1")" -c 'SELECT pg_sleep(60)'; }
adapter_sessions() { pg_admin <<<"SELECT count(*) FROM pg_stat_activity WHERE usename = '$(jq -r .username <<<"$1")'"; }
adapter_tenants() {
	pg_admin <<-'SQL'
		SELECT datname FROM pg_database WHERE datname LIKE 'osb\_%'
		UNION SELECT rolname FROM pg_roles WHERE rolname LIKE 'osb\_%' ORDER BY 1;
	SQL
}
adapter_orphan() { printf 'CREATE ROLE %s NOLOGIN;\nCREATE DATABASE %s OWNER %s;\n' "$1" "$1" "$1" | pg_admin >/dev/null; }
