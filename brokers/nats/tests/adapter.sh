# Contract-test adapter of the NATS broker (tests/contract/contract.sh): a nats-server in operator mode
# (brokers/nats/server.sh), the credentials used with libnats (this directory's client.c) through
# their creds file, tenants seen in the server's account resolver.
# shellcheck shell=bash disable=SC2034
ADAPTER_PLAN=small
ADAPTER_MORE_PLANS=dedicated
ADAPTER_TOOLS="nats-server openssl curl base32 sha256sum"
ADAPTER_CREDENTIAL_KEYS="host hostname port username password uri jwt seed creds account"
_nats_client=$(find "$(dirname "$BROKER_BIN")" -name 'osb-nats-client' -type f -perm -u+x | head -n 1)
[ -x "$_nats_client" ] || fail "the NATS test client osb-nats-client was not built next to the broker"

adapter_server_start() { "$ROOT/brokers/nats/server.sh" start "$1" "$2" "$3" >/dev/null; }
adapter_server_stop() { "$ROOT/brokers/nats/server.sh" stop "$1"; }
# The operator and system account seeds server.sh derives from the secret.
adapter_driver_config() {
	local seeds
	seeds=$("$ROOT/brokers/nats/server.sh" seeds "$2")
	jq -cn --argjson port "$1" --arg op "${seeds% *}" --arg sys "${seeds#* }" \
		'{port: $port, operator_seed: $op, admin_password: $sys}'
}

# The binding's creds file (written once: clients running at the same time read it).
_nats_creds() {
	local f tmp
	f="$WORK/nats-$(jq -r .username <<<"$1").creds"
	tmp=$(mktemp "$f.XXXXXX")
	if [ ! -f "$f" ]; then
		jq -r .creds <<<"$1" >"$tmp"
		mv -f "$tmp" "$f"
	fi
	rm -f "$tmp"
	echo "$f"
}
_nats_url() { jq -r '"nats://\(.host):\(.port)"' <<<"$1"; }
# adapter_access CREDS SPACE KEY [VALUE]: JetStream key-value in a bucket named after SPACE's account,
# made by the first write of a binding of that account: another account's users never see it.
adapter_access() {
	local creds url bucket create=
	creds=$(_nats_creds "$1")
	url=$(_nats_url "$2")
	bucket=b$(jq -r .account <<<"$2")
	[ "$(jq -r .account <<<"$1")" = "$(jq -r .account <<<"$2")" ] && create=create
	if [ $# -ge 4 ]; then
		timeout 10 "$_nats_client" kv-put "$creds" "$url" "$bucket" "$3" "$4" $create
	else
		timeout 10 "$_nats_client" kv-get "$creds" "$url" "$bucket" "$3"
	fi
}
adapter_session() {
	timeout 60 "$_nats_client" hold "$(_nats_creds "$1")" "$(_nats_url "$1")" 60 "$WORK/held-$(jq -r .username <<<"$1")"
}
# The shared server's monitoring port lists the account's connections by user name (the JWT's name);
# a dedicated server has no monitoring port: the client says when it is in.
adapter_sessions() {
	if [ "$(jq -r .port <<<"$1")" = "$SERVER_PORT" ]; then
		curl -sf "http://127.0.0.1:$(cat "$SERVER_DIR/monitor.port")/connz?acc=$(jq -r .account <<<"$1")&auth=true&limit=1000" |
			jq --arg u "$(jq -r .username <<<"$1")" '[.connections[]? | select(.name_tag == $u)] | length'
	else
		[ -f "$WORK/held-$(jq -r .username <<<"$1")" ] && echo 1 || echo 0
	fi
}
_b64url_d() {
	local s
	s=$(tr '_-' '/+')
	while [ $((${#s} % 4)) != 0 ]; do s="$s="; done
	base64 -d <<<"$s" 2>/dev/null
}
# Accounts in the resolver's directory: their names, and the roles of their scoped signing keys.
adapter_tenants() {
	local f
	for f in "$SERVER_DIR"/jwt/*.jwt; do
		[ -f "$f" ] || continue
		cut -d. -f2 "$f" | _b64url_d | jq -r '.name, (.nats.signing_keys // [] | .[] | objects | .role)'
	done | grep '^osb_' | sort -u || true
}
# An account JWT named NAME signed by the operator, pushed to the resolver as the server's admin.
adapter_orphan() {
	"$ROOT/brokers/nats/server.sh" creds "$SERVER_SECRET" >"$WORK/nats-admin.creds"
	# shellcheck disable=SC2016 # a NATS subject, not a shell expression
	"$_nats_client" req "$WORK/nats-admin.creds" "nats://127.0.0.1:$SERVER_PORT" '$SYS.REQ.CLAIMS.UPDATE' \
		"$("$ROOT/brokers/nats/server.sh" account "$SERVER_SECRET" "$1")" | grep -q '"code":200'
}
