# Contract-test adapter of the etcd broker (tests/contract/contract.sh): an etcd 3.4 server with
# authentication on (brokers/etcd/server.sh), the credentials used with etcdctl (keys under the
# binding's prefix), tenants seen as root sees them.
# shellcheck shell=bash disable=SC2034
ADAPTER_PLAN=shared
ADAPTER_MORE_PLANS=dedicated-small
ADAPTER_TOOLS="etcd etcdctl"
ADAPTER_CREDENTIAL_KEYS="host hostname port username password uri endpoints prefix"
ADAPTER_NO_SESSION_END="etcd 3.4 checks a watch's permission only when the watch is created: one opened before unbind \
goes on until its stream closes (the user's tokens are refused at once, so nothing new can start)"
export ETCDCTL_API=3

adapter_server_start() { bash "$ROOT/brokers/etcd/server.sh" start "$1" "$2" "$3" >/dev/null; }
adapter_server_stop() { bash "$ROOT/brokers/etcd/server.sh" stop "$1"; }
adapter_driver_config() {
	jq -cn --argjson port "$1" --arg pw "$2" '{port: $port, admin_user: "root", admin_password: $pw}'
}

# _ec ENDPOINT USER:PASSWORD ARGS...: etcdctl with that login (in the environment, not the command line).
_ec() {
	local endpoint=$1 login=$2
	shift 2
	ETCDCTL_USER=$login timeout 15 etcdctl --endpoints="$endpoint" --dial-timeout=3s --command-timeout=5s "$@"
}
_ec_root() { _ec "http://127.0.0.1:$SERVER_PORT" "root:$SERVER_SECRET" "$@"; }
# adapter_access CREDS SPACE KEY [VALUE]: the key SPACE.prefix + KEY on SPACE's server, as binding CREDS.
adapter_access() {
	local login endpoint key
	login=$(jq -r '"\(.username):\(.password)"' <<<"$1")
	endpoint=$(jq -r '.endpoints[0]' <<<"$2")
	key=$(jq -r .prefix <<<"$2")$3
	if [ $# -ge 4 ]; then
		_ec "$endpoint" "$login" put "$key" "$4"
	else
		_ec "$endpoint" "$login" get --print-value-only "$key"
	fi
}
adapter_tenants() {
	{
		_ec_root role list
		_ec_root user list
		_ec_root get --prefix /osb_ --keys-only | cut -d/ -f2
	} | grep '^osb_' | sort -u || true
}
# An instance-level orphan: a role of the broker's shape and a key under its prefix.
adapter_orphan() {
	_ec_root role add "$1" >/dev/null || fail "etcdctl role add $1 failed"
	_ec_root role grant-permission "$1" --prefix=true readwrite "/$1/" >/dev/null ||
		fail "etcdctl role grant-permission failed"
	_ec_root put "/$1/left-over" x >/dev/null || fail "etcdctl put /$1/left-over failed"
}
