# Contract-test adapter of the MySQL broker (tests/contract/contract.sh): a MariaDB server, the
# credentials used with the mariadb client, tenants seen as the admin sees them.
# shellcheck shell=bash disable=SC2034
ADAPTER_PLAN=small
ADAPTER_MORE_PLANS=dedicated
ADAPTER_TOOLS="mariadb mariadbd mariadb-install-db"
ADAPTER_CREDENTIAL_KEYS="host hostname port name database username password uri jdbcUrl"

adapter_server_start() { "$ROOT/scripts/mariadb-start.sh" "$1" "$2" "$3" >/dev/null; }
adapter_server_stop() { "$ROOT/scripts/mariadb-stop.sh" "$1"; }
adapter_driver_config() { jq -cn --argjson port "$1" --arg pw "$2" '{port: $port, admin_user: "root", admin_password: $pw}'; }

# mariadb with a login (USER PASSWORD) on HOST:PORT; the password travels in the environment.
_my() {
	local user=$1 pw=$2 host=$3 port=$4
	shift 4
	MYSQL_PWD=$pw timeout 20 mariadb --protocol=TCP -h "$host" -P "$port" -u "$user" -N -B "$@"
}
_my_admin() { _my root "$SERVER_SECRET" 127.0.0.1 "$SERVER_PORT" "$@"; }
# adapter_access CREDS SPACE KEY [VALUE]: a table `contract` of SPACE's database, one row per key.
adapter_access() {
	local c=$1 s=$2 db
	db=$(jq -r .name <<<"$s")
	set -- "$(jq -r .username <<<"$c")" "$(jq -r .password <<<"$c")" "$(jq -r .host <<<"$s")" "$(jq -r .port <<<"$s")" "$3" "${4-}" "$#"
	if [ "$7" -ge 4 ]; then
		_my "$1" "$2" "$3" "$4" -D "$db" -e "CREATE TABLE IF NOT EXISTS contract (k VARCHAR(64) PRIMARY KEY, v TEXT);
			REPLACE INTO contract VALUES ('$5', '$6')"
	else
		_my "$1" "$2" "$3" "$4" -D "$db" -e "SELECT v FROM contract WHERE k = '$5'"
	fi
}
adapter_session() {
	_my "$(jq -r .username <<<"$1")" "$(jq -r .password <<<"$1")" "$(jq -r .host <<<"$1")" "$(jq -r .port <<<"$1")" \
		-D "$(jq -r .name <<<"$1")" -e "SELECT SLEEP(60)"
}
adapter_sessions() {
	local port
	port=$(jq -r .port <<<"$1")
	if [ "$port" = "$SERVER_PORT" ]; then
		_my_admin -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '$(jq -r .username <<<"$1")'"
	else
		_my root "$(dedicated_secret "$port")" 127.0.0.1 "$port" \
			-e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '$(jq -r .username <<<"$1")'"
	fi
}
adapter_tenants() {
	{
		_my_admin -e "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'osb\\_%'"
		_my_admin -e "SELECT DISTINCT User FROM mysql.user WHERE User LIKE 'osb\\_%'"
	} | sort -u
}
adapter_orphan() { _my_admin -e "CREATE DATABASE \`$1\`"; }
