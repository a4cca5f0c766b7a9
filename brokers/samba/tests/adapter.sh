# Contract-test adapter of the Samba broker (tests/contract/contract.sh): smbd (brokers/samba/server.sh),
# a binding's login used over SMB through libsmbclient (this directory's smb_client.c), sessions and
# tenants seen with Samba's own tools.
# shellcheck shell=bash disable=SC2034
ADAPTER_PLAN=standard
ADAPTER_TOOLS="smbd smbclient net pdbedit smbstatus"
ADAPTER_CREDENTIAL_KEYS="host hostname port username password uri share source"
_sm_client=$(find "$(dirname "$BROKER_BIN")" -name 'osb-samba-smb-client' -type f -perm -u+x | head -n 1)
[ -x "$_sm_client" ] || fail "the SMB test client osb-samba-smb-client was not built next to the broker"
# The server's directory: the harness's SERVER_DIR, or the one tests/bosh/server.sh starts.
_sm_dir=
_sm_d() { echo "${SERVER_DIR:-$_sm_dir}"; }

adapter_server_start() {
	_sm_dir=$1
	"$ROOT/brokers/samba/server.sh" start "$1" "$2" >/dev/null
}
adapter_server_stop() { "$ROOT/brokers/samba/server.sh" stop "$1"; }
adapter_driver_config() {
	jq -cn --argjson port "$1" --arg d "$(_sm_d)" '{host: "127.0.0.1", port: $port, smb_conf: "\($d)/smb.conf",
		share_dir: "\($d)/shares"}'
}

_sm_conf() { echo "$(_sm_d)/smb.conf"; }
# _sm_as CREDS SPACE COMMAND FILE [ARGS...]: the client with CREDS's login on SPACE's share.
_sm_as() {
	local creds=$1 space=$2 cmd=$3
	shift 3
	OSB_SMB_USER=$(jq -r .username <<<"$creds") OSB_SMB_PASSWORD=$(jq -r .password <<<"$creds") \
		timeout 30 "$_sm_client" "$cmd" "$(jq -r .host <<<"$space")" "$(jq -r .port <<<"$space")" \
		"$(jq -r .share <<<"$space")" "$@"
}
# adapter_access CREDS SPACE KEY [VALUE]: KEY is a file at the top of SPACE's share.
adapter_access() {
	if [ $# -ge 4 ]; then _sm_as "$1" "$2" put "$3" "$4"; else _sm_as "$1" "$2" get "$3"; fi
}
adapter_session() {
	local user
	user=$(jq -r .username <<<"$1")
	_sm_as "$1" "$1" hold "session-$user" 60 "$WORK/held-$user"
}
# The sessions smbd serves for the binding's Unix account.
adapter_sessions() {
	smbstatus -s "$(_sm_conf)" --json 2>/dev/null |
		jq --arg u "$(jq -r .username <<<"$1")" '[.sessions[]? | select(.username == $u)] | length'
}
adapter_tenants() {
	{
		net -s "$(_sm_conf)" conf listshares 2>/dev/null
		pdbedit -s "$(_sm_conf)" -L 2>/dev/null | cut -d: -f1
		find "$(_sm_d)/shares" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null
	} | grep '^osb_' | sort -u || true
}
# Unix accounts and groups are the machine's, not the server's: what a failed test left of this
# server's (its passdb users, its shares' groups and their members) goes when the test ends.
_sm_clean() {
	local conf n gid
	conf=$(_sm_conf)
	[ -f "$conf" ] || return 0
	for n in $(pdbedit -s "$conf" -L 2>/dev/null | cut -d: -f1 | grep '^osb_'); do userdel "$n" 2>/dev/null; done
	for n in $(net -s "$conf" conf listshares 2>/dev/null | grep '^osb_'); do
		gid=$(getent group "$n" | cut -d: -f3) || continue
		getent passwd | awk -F: -v g="$gid" '$4 == g && $1 ~ /^osb_/ {print $1}' | xargs -r -n1 userdel 2>/dev/null
		groupdel "$n" 2>/dev/null
	done
	return 0
}
t_on_exit _sm_clean
# An orphan share (registry and directory) but no Unix group: groups are the machine's, not the server's.
adapter_orphan() {
	mkdir -p "$(_sm_d)/shares/$1"
	net -s "$(_sm_conf)" conf addshare "$1" "$(_sm_d)/shares/$1" writeable=n guest_ok=n >/dev/null
}
