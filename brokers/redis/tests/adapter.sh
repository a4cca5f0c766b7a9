# Contract-test adapter of the Redis broker (tests/contract/contract.sh): how to run a Redis server,
# use a binding's credentials with redis-cli, and see tenants as the admin does.
# shellcheck shell=bash disable=SC2034
ADAPTER_PLAN=shared
ADAPTER_MORE_PLANS=dedicated-small
ADAPTER_TOOLS="redis-server redis-cli"
ADAPTER_CREDENTIAL_KEYS="host hostname port username password uri"
unset REDISCLI_AUTH || true

adapter_server_start() { "$ROOT/scripts/redis-start.sh" "$1" "$2" "$3" >/dev/null; }
adapter_server_stop() { "$ROOT/scripts/redis-stop.sh" "$1"; }
adapter_driver_config() { jq -cn --argjson port "$1" --arg pw "$2" '{port: $port, admin_user: "admin", admin_password: $pw}'; }

# redis-cli as the admin of the shared server, or with RD_PORT of a dedicated one.
_rd_admin() {
	local port=${RD_PORT:-$SERVER_PORT} pw=$SERVER_SECRET
	[ "$port" = "$SERVER_PORT" ] || pw=$(dedicated_secret "$port")
	REDISCLI_AUTH=$pw redis-cli --no-auth-warning -h 127.0.0.1 -p "$port" --user admin "$@"
}
# redis-cli with CREDS's login against SPACE's server; prints the reply, fails on an error reply.
_rd_as() {
	local creds=$1 space=$2 out
	shift 2
	out=$(REDISCLI_AUTH=$(jq -r .password <<<"$creds") timeout "${RD_TIMEOUT:-10}" redis-cli --no-auth-warning \
		-h "$(jq -r .host <<<"$space")" -p "$(jq -r .port <<<"$space")" --user "$(jq -r .username <<<"$creds")" \
		"$@" 2>&1) || { echo "$out"; return 1; }
	echo "$out"
	! grep -qE '^(ERR|NOPERM|WRONGPASS|NOAUTH|WRONGTYPE)|^Error' <<<"$out"
}
# adapter_access CREDS SPACE KEY [VALUE]: the key lives under SPACE's key_prefix (none on a dedicated server).
adapter_access() {
	local key
	key=$(jq -r '.key_prefix // ""' <<<"$2")$3
	if [ $# -ge 4 ]; then _rd_as "$1" "$2" SET "$key" "$4"; else _rd_as "$1" "$2" GET "$key"; fi
}
adapter_session() { RD_TIMEOUT=60 _rd_as "$1" "$1" SUBSCRIBE "$(jq -r '.key_prefix // ""' <<<"$1")events"; }
adapter_sessions() { RD_PORT=$(jq -r .port <<<"$1") _rd_admin CLIENT LIST | grep -c "user=$(jq -r .username <<<"$1") " || true; }
adapter_tenants() {
	{
		_rd_admin ACL USERS | grep '^osb_' || true
		_rd_admin --scan --pattern 'osb_*:*' | cut -d: -f1
	} | sort -u
}
adapter_orphan() { _rd_admin SET "$1:left-over" x >/dev/null; }
