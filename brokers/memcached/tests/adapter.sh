# Contract-test adapter of the memcached broker (tests/contract/contract.sh). memcached has no shared
# server: every plan is dedicated, so the contract runs on a dedicated plan alone. The credentials are
# used with libmemcached's own tools (memccp, memccat) over the binary protocol with SASL.
# shellcheck shell=bash disable=SC2034
ADAPTER_PLAN=dedicated-small
ADAPTER_SHARED=0
ADAPTER_TOOLS="memcached saslpasswd2 memccp memccat memcstat"
ADAPTER_CREDENTIAL_KEYS="host hostname port username password uri servers"
ADAPTER_NO_SESSION_END="memcached authenticates a connection once (SASL) and has no command that closes another \
client's connection: unbind refuses every new login at once, a connection that logged in before stays open"

# A throw-away memcached with SASL (the contract never needs one: there is no shared server).
adapter_server_start() { "$ROOT/brokers/memcached/server.sh" start "$1" "$2" "$3" >/dev/null; }
adapter_server_stop() { "$ROOT/brokers/memcached/server.sh" stop "$1"; }
adapter_driver_config() { echo '{}'; }

# adapter_access CREDS SPACE KEY [VALUE]: CREDS's SASL login on SPACE's server (its `servers` list).
adapter_access() {
	local user pw server
	user=$(jq -r .username <<<"$1")
	pw=$(jq -r .password <<<"$1")
	server=$(jq -r '.servers[0]' <<<"$2")
	if [ $# -ge 4 ]; then
		mkdir -p "$WORK/memcached-put"
		printf '%s' "$4" >"$WORK/memcached-put/$3"
		timeout 10 memccp --binary -u "$user" -p "$pw" -s "$server" "$WORK/memcached-put/$3"
	else
		timeout 10 memccat --binary -u "$user" -p "$pw" -s "$server" "$3"
	fi
}
# Only dedicated servers: the harness looks at their directories, never at a shared server's tenants.
adapter_tenants() { :; }
adapter_orphan() { fail "memcached has no shared server to make an orphan on"; }
