# Contract-test adapter of the GlusterFS broker (tests/contract/contract.sh): glusterd
# (brokers/glusterfs/server.sh), a binding's TLS identity used through gfapi (this directory's
# gfapi_client.c), tenants seen with the gluster CLI.
# shellcheck shell=bash disable=SC2034
ADAPTER_PLAN=small
ADAPTER_TOOLS="glusterd gluster openssl"
ADAPTER_CREDENTIAL_KEYS="host hostname port username password uri volume tls_cert tls_ca"
# glusterd listens on 24007, always: one per machine, so its tests never run side by side.
ADAPTER_RESOURCE_LOCK=glusterd
_gl_addr=${OSB_GLUSTER_ADDR:-127.0.1.1}
_gl_client=$(find "$(dirname "$BROKER_BIN")" -name 'osb-glusterfs-gfapi-client' -type f -perm -u+x | head -n 1)
[ -x "$_gl_client" ] || fail "the gfapi test client osb-glusterfs-gfapi-client was not built next to the broker"
# The server's directory: the harness's SERVER_DIR, or the one tests/bosh/server.sh starts.
_gl_dir=
_gl_d() { echo "${SERVER_DIR:-$_gl_dir}"; }

adapter_server_start() {
	_gl_dir=$1
	"$ROOT/brokers/glusterfs/server.sh" start "$1" >/dev/null
}
adapter_server_stop() { "$ROOT/brokers/glusterfs/server.sh" stop "$1"; }
adapter_driver_config() {
	jq -cn --arg d "$(_gl_d)" --arg addr "$_gl_addr" '{host: $addr, port: 24007, brick_dir: "\($d)/bricks",
		glusterd_socket: "\($d)/glusterd.socket", tls_cert: "\($d)/tls/server.pem", tls_key: "\($d)/tls/server.key",
		tls_ca: "\($d)/tls/ca.pem", tls_ca_key: "\($d)/tls/ca.key"}'
}

_gl_cli() { gluster --glusterd-sock="$(_gl_d)/glusterd.socket" --mode=script "$@"; }
# _gl_tls CREDS: the binding's certificate, key and CA as files for the client; prints their directory.
_gl_tls() {
	local dir
	dir=$WORK/tls-$(jq -r .username <<<"$1")
	mkdir -p "$dir"
	chmod 700 "$dir"
	jq -r .tls_cert <<<"$1" >"$dir/cert.pem"
	(umask 077 && jq -r .password <<<"$1" >"$dir/key.pem")
	jq -r .tls_ca <<<"$1" >"$dir/ca.pem"
	echo "$dir"
}
# _gl_as CREDS SPACE COMMAND FILE [ARGS...]: the client with CREDS's identity on SPACE's volume.
_gl_as() {
	local creds=$1 space=$2 cmd=$3
	shift 3
	"$_gl_client" "$cmd" "$(jq -r .host <<<"$space")" "$(jq -r .port <<<"$space")" "$(jq -r .volume <<<"$space")" \
		"$(_gl_tls "$creds")" "$@"
}
# adapter_access CREDS SPACE KEY [VALUE]: KEY is a file at the top of SPACE's volume.
adapter_access() {
	if [ $# -ge 4 ]; then _gl_as "$1" "$2" put "$3" "$4"; else _gl_as "$1" "$2" get "$3"; fi
}
# The client says when its session is in; glusterd names clients by address only, not by identity.
adapter_session() {
	local user
	user=$(jq -r .username <<<"$1")
	_gl_as "$1" "$1" hold "session-$user" 60 "$WORK/held-$user"
}
adapter_sessions() { [ -f "$WORK/held-$(jq -r .username <<<"$1")" ] && echo 1 || echo 0; }
adapter_tenants() {
	{
		_gl_cli volume info all 2>/dev/null | sed -n 's/^Volume Name: //p; s/^auth.ssl-allow: //p' | tr ',' '\n' |
			sed 's/^\(osb_[0-9a-f]\{20\}\)-[0-9a-f]*$/\1/'
		find "$(_gl_d)/bricks" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null
	} | grep '^osb_' | sort -u || true
}
adapter_orphan() { _gl_cli volume create "$1" "$_gl_addr:$(_gl_d)/bricks/$1" force >/dev/null; }
