# Contract-test adapter of the Subversion broker (tests/contract/contract.sh): svnserve
# (brokers/svn/server.sh), the credentials used with svn and svnmucc, tenants seen in the
# repositories' directory.
# shellcheck shell=bash disable=SC2034
ADAPTER_PLAN=small
ADAPTER_MORE_PLANS=dedicated
ADAPTER_TOOLS="svnserve svnadmin svn svnmucc"
ADAPTER_CREDENTIAL_KEYS="host hostname port username password uri checkout_url repository"
ADAPTER_NO_SESSION_END="svnserve checks a login when a connection opens and has no way to list or close connections; an svn command holds its connection for that command only, so a revoked login fails from its next command on"
# The server's directory: the harness's SERVER_DIR, or the one tests/bosh/server.sh starts.
_sv_dir=
_sv_repos() { echo "${SERVER_DIR:-$_sv_dir}/repos"; }

adapter_server_start() {
	_sv_dir=$1
	"$ROOT/brokers/svn/server.sh" start "$1" "$2" "$3" >/dev/null
}
adapter_server_stop() { "$ROOT/brokers/svn/server.sh" stop "$1"; }
adapter_driver_config() { jq -cn --argjson port "$1" --arg root "$(_sv_repos)" '{port: $port, root: $root}'; }

# svn or svnmucc with the login of binding CREDS; the client keeps nothing of it.
_sv_as() {
	local tool=$1 creds=$2
	shift 2
	timeout 30 "$tool" --non-interactive --no-auth-cache --config-dir "$WORK/svn-config" \
		--username "$(jq -r .username <<<"$creds")" --password "$(jq -r .password <<<"$creds")" "$@"
}
# adapter_access CREDS SPACE KEY [VALUE]: KEY is a file at the top of SPACE's repository; a write is a commit.
adapter_access() {
	local url
	url=$(jq -r .checkout_url <<<"$2")/$3
	if [ $# -ge 4 ]; then
		printf '%s' "$4" >"$WORK/svn-value"
		_sv_as svnmucc "$1" -m "contract: $3" put "$WORK/svn-value" "$url" >/dev/null
	else
		_sv_as svn "$1" cat "$url"
	fi
}
adapter_tenants() {
	{
		find "$(_sv_repos)" -mindepth 1 -maxdepth 1 -type d -printf '%f\n'
		cat "$(_sv_repos)"/osb_*/conf/passwd 2>/dev/null | cut -d' ' -f1
	} | grep '^osb_' | sort -u || true
}
adapter_orphan() { svnadmin create "$(_sv_repos)/$1"; }
