# Contract-test adapter of the MySQL broker (tests/contract/contract.sh): a MariaDB server, the
# credentials used with the mariadb client, tenants seen as the admin sees them. integration.sh and
# dedicated.sh use it too.
# shellcheck shell=bash disable=SC2034
ADAPTER_PLAN=small
ADAPTER_MORE_PLANS=dedicated
ADAPTER_TOOLS="mariadb mariadbd mariadb-install-db"
ADAPTER_CREDENTIAL_KEYS="host hostname port name database username password uri jdbcUrl"
ADAPTER_DOWN_REASON=connect

adapter_server_start() { "$ROOT/scripts/mariadb-start.sh" "$1" "$2" "$3" >/dev/null; }
adapter_server_stop() { "$ROOT/scripts/mariadb-stop.sh" "$1"; }
adapter_driver_config() { jq -cn --argjson port "$1" --arg pw "$2" '{port: $port, admin_user: "root", admin_password: $pw}'; }

# my_client USER PASSWORD HOST PORT ARGS...: mariadb with that login; the password travels in the environment.
my_client() {
	local user=$1 pw=$2 host=$3 port=$4
	shift 4
	MYSQL_PWD=$pw timeout 20 mariadb --protocol=TCP -h "$host" -P "$port" -u "$user" -N -B "$@"
}
# my_admin ARGS...: mariadb as root of the shared server, or with MY_PORT of the dedicated server on that port.
my_admin() {
	local port=${MY_PORT:-$SERVER_PORT} pw=$SERVER_SECRET
	[ "$port" = "$SERVER_PORT" ] || pw=$(dedicated_secret "$port")
	my_client root "$pw" 127.0.0.1 "$port" "$@"
}
# my_as CREDS ARGS...: mariadb with the login of binding CREDS, on its server.
my_as() {
	local c=$1
	shift
	my_client "$(jq -r .username <<<"$c")" "$(jq -r .password <<<"$c")" "$(jq -r .host <<<"$c")" "$(jq -r .port <<<"$c")" "$@"
}
# adapter_access CREDS SPACE KEY [VALUE]: a table `contract` of SPACE's database, one row per key.
adapter_access() {
	local c=$1 s=$2 db
	db=$(jq -r .name <<<"$s")
	set -- "$(jq -r .username <<<"$c")" "$(jq -r .password <<<"$c")" "$(jq -r .host <<<"$s")" "$(jq -r .port <<<"$s")" "$3" "${4-}" "$#"
	if [ "$7" -ge 4 ]; then
		my_client "$1" "$2" "$3" "$4" -D "$db" -e "CREATE TABLE IF NOT EXISTS contract (k VARCHAR(64) PRIMARY KEY, v TEXT);
			REPLACE INTO contract VALUES ('$5', '$6')"
	else
		my_client "$1" "$2" "$3" "$4" -D "$db" -e "SELECT v FROM contract WHERE k = '$5'"
	fi
}
adapter_session() { my_as "$1" -D "$(jq -r .name <<<"$1")" -e "SELECT SLEEP(60)"; }
adapter_sessions() {
	MY_PORT=$(jq -r .port <<<"$1") my_admin \
		-e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '$(jq -r .username <<<"$1")'"
}
adapter_tenants() {
	{
		my_admin -e "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'osb\\_%'"
		my_admin -e "SELECT DISTINCT User FROM mysql.user WHERE User LIKE 'osb\\_%'"
	} | sort -u
}
adapter_orphan() { my_admin -e "CREATE DATABASE \`$1\`"; }
