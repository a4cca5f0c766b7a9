# Contract-test adapter of the Git broker (tests/contract/contract.sh): Apache with git-http-backend
# (brokers/git/server.sh), the credentials used with git clone and git push, tenants seen in the tree
# the broker writes.
# shellcheck shell=bash disable=SC2034
ADAPTER_PLAN=small
ADAPTER_TOOLS="apache2 git curl"
ADAPTER_CREDENTIAL_KEYS="host hostname port username password uri clone_url repository"
ADAPTER_NO_SESSION_END="git's smart HTTP has no sessions: Apache checks the login against htpasswd and groups on every request, so a revoked binding fails from its next request on; a transfer already under way ends on its own"
export GIT_TERMINAL_PROMPT=0 GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=contract GIT_AUTHOR_EMAIL=contract@example.org \
	GIT_COMMITTER_NAME=contract GIT_COMMITTER_EMAIL=contract@example.org
# The tree of the server's directory: the harness's SERVER_DIR, or the one tests/bosh/server.sh starts.
_gt_dir=
_gt_tree() { echo "${SERVER_DIR:-$_gt_dir}/tree"; }

adapter_server_start() {
	_gt_dir=$1
	"$ROOT/brokers/git/server.sh" start "$1" "$2" "$3" >/dev/null
}
adapter_server_stop() { "$ROOT/brokers/git/server.sh" stop "$1"; }
adapter_driver_config() { jq -cn --argjson port "$1" --arg root "$(_gt_tree)" '{port: $port, root: $root}'; }

# The repository of binding SPACE with the login of binding CREDS.
_gt_url() {
	jq -rn --argjson c "$1" --argjson s "$2" \
		'$s.clone_url | sub("^(?<p>https?://)"; "\(.p)\($c.username | @uri):\($c.password | @uri)@")'
}
# adapter_access CREDS SPACE KEY [VALUE]: KEY is a file on the default branch; a write is a commit and a push.
adapter_access() {
	local url tmp rc=0
	url=$(_gt_url "$1" "$2")
	tmp=$(mktemp -d "$WORK/clone.XXXXXX")
	if ! timeout 30 git clone -q "$url" "$tmp/c" 2>"$tmp/err"; then
		rc=1
	elif [ $# -ge 4 ]; then
		printf '%s' "$4" >"$tmp/c/$3"
		if ! git -C "$tmp/c" add "$3" || ! git -C "$tmp/c" commit -q --allow-empty -m "contract: $3" ||
			! timeout 30 git -C "$tmp/c" push -q origin HEAD:main 2>"$tmp/err"; then
			rc=1
		fi
	else
		cat "$tmp/c/$3" || rc=1
	fi
	[ "$rc" = 0 ] || cat "$tmp/err"
	rm -rf "$tmp"
	return "$rc"
}
adapter_tenants() {
	{
		find "$(_gt_tree)/repos" -mindepth 1 -maxdepth 1 -name '*.git' -printf '%f\n' | sed 's/\.git$//'
		cut -d: -f1 "$(_gt_tree)/htpasswd" 2>/dev/null
		sed 's/\.ro:/:/; s/: */\n/' "$(_gt_tree)/groups" 2>/dev/null
	} | grep '^osb_' | sort -u || true
}
adapter_orphan() { git init -q --bare "$(_gt_tree)/repos/$1.git"; }
