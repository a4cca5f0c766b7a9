# Contract-test adapter of the ZooKeeper broker (tests/contract/contract.sh): a ZooKeeper server
# (brokers/zookeeper/server.sh), the credentials used with the C client library
# (tests/zk_client.c), tenants seen as the super user sees them.
# shellcheck shell=bash disable=SC2034
ADAPTER_PLAN=small
ADAPTER_MORE_PLANS=dedicated
ADAPTER_TOOLS="java openssl"
ADAPTER_CREDENTIAL_KEYS="host hostname port username password uri connect_string chroot auth"
ADAPTER_NO_SESSION_END="ZooKeeper has no call that ends another client's session; every call of a live session is \
checked against the znode's ACL, so the unbound identity is refused at its next call (tests/zookeeper.sh shows it)"
_zkc=${OSB_HELPER_ZK_CLIENT:-$(dirname "$BROKER_BIN")/tests/osb-zookeeper-zk-client}
[ -x "$_zkc" ] || fail "the test client osb-zookeeper-zk-client was not built next to the broker"

adapter_server_start() { "$ROOT/brokers/zookeeper/server.sh" start "$1" "$2" "$3" >/dev/null; }
adapter_server_stop() { "$ROOT/brokers/zookeeper/server.sh" stop "$1"; }
adapter_driver_config() { jq -cn --argjson port "$1" --arg pw "$2" '{port: $port, admin_password: $pw}'; }

# _zk_admin OP PATH [ARGS]: the test client as the super user of the shared server.
_zk_admin() {
	local op=$1
	shift
	timeout 20 "$_zkc" "$op" "127.0.0.1:$SERVER_PORT" "super:$SERVER_SECRET" "$@"
}
# adapter_access CREDS SPACE KEY [VALUE]: znode /KEY under SPACE's chroot, on SPACE's server, as CREDS.
adapter_access() {
	local at auth
	at=$(jq -r '"\(.host):\(.port)\(.chroot)"' <<<"$2")
	auth=$(jq -r '"\(.username):\(.password)"' <<<"$1")
	if [ $# -ge 4 ]; then
		timeout 20 "$_zkc" put "$at" "$auth" "/$3" "$4"
	else
		timeout 20 "$_zkc" get "$at" "$auth" "/$3"
	fi
}
adapter_tenants() {
	local r
	{
		_zk_admin ls /osb || true
		_zk_admin ls /zookeeper/quota/osb || true
		for r in $(_zk_admin ls /osb/.bindings || true); do
			echo "$r"
			_zk_admin ls "/osb/.bindings/$r" || true
		done
	} 2>/dev/null | grep '^osb_' | sort -u || true
}
adapter_orphan() { _zk_admin create "/osb/$1" left-over creator >/dev/null; }
