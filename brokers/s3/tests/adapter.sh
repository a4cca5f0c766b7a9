# Contract-test adapter of the s3 broker (tests/contract/contract.sh): a radosgw (brokers/s3/server.sh)
# on the Ceph cluster that the s3 fixture starts once per ctest run, the credentials used with
# s3cmd, tenants seen as the cluster's admin with radosgw-admin.
# shellcheck shell=bash disable=SC2034
ADAPTER_PLAN=micro
ADAPTER_TOOLS="s3cmd radosgw radosgw-admin"
ADAPTER_CREDENTIAL_KEYS="host hostname port username password uri access_key_id secret_access_key bucket endpoint
	region"
ADAPTER_NO_SESSION_END="S3 has no sessions: every request is signed and checked on its own, so a deleted key fails \
from its next request on"
# The fixture's cluster (ctest sets OSB_FIXTURES); server.sh fails loudly without one.
export OSB_S3_CLUSTER=${OSB_S3_CLUSTER:-${OSB_FIXTURES:+$OSB_FIXTURES/s3}}

adapter_server_start() { bash "$ROOT/brokers/s3/server.sh" start "$1" "$2" "$3" >/dev/null; }
adapter_server_stop() { bash "$ROOT/brokers/s3/server.sh" stop "$1"; }
adapter_driver_config() {
	jq -cn --arg url "http://127.0.0.1:$1" --arg pw "$2" '{endpoint: $url, admin_user: "admin", admin_password: $pw}'
}

# s3_as CREDS ARGS...: s3cmd with the key of binding CREDS on its endpoint (path-style, signature v4).
s3_as() {
	local creds=$1 cfg
	shift
	cfg=$WORK/s3cfg-$(jq -r .access_key_id <<<"$creds")
	jq -r '"[default]\naccess_key = \(.access_key_id)\nsecret_key = \(.secret_access_key)\n" +
		"host_base = \(.endpoint | sub("^https?://"; ""))\nhost_bucket = \(.endpoint | sub("^https?://"; ""))\n" +
		"use_https = \(.endpoint | startswith("https:") | if . then "True" else "False" end)\n" +
		"bucket_location = \(.region)\nsignature_v2 = False\n"' <<<"$creds" >"$cfg"
	timeout "${S3_TIMEOUT:-30}" s3cmd -c "$cfg" --no-progress "$@"
}
# adapter_access CREDS SPACE KEY [VALUE]: object KEY of SPACE's bucket, with CREDS's key.
adapter_access() {
	local bucket
	bucket=$(jq -r .bucket <<<"$2")
	if [ $# -ge 4 ]; then
		printf '%s' "$4" >"$WORK/s3-value"
		s3_as "$1" put "$WORK/s3-value" "s3://$bucket/$3"
	else
		rm -f "$WORK/s3-got"
		s3_as "$1" get --force "s3://$bucket/$3" "$WORK/s3-got" >/dev/null && cat "$WORK/s3-got"
	fi
}
# rgw_admin ARGS...: radosgw-admin on the fixture's cluster.
rgw_admin() { timeout 60 radosgw-admin -c "$OSB_S3_CLUSTER/ceph.conf" "$@" 2>/dev/null; }
adapter_tenants() {
	local u
	{
		for u in $(rgw_admin user list | jq -r '.[]'); do
			echo "$u"
			rgw_admin user info --uid="$u" | jq -r '.keys[].access_key'
		done
		rgw_admin bucket list | jq -r '.[]' | sed -n 's/^osb-/osb_/p'
	} | grep '^osb_' | sort -u || true
}
adapter_orphan() { rgw_admin user create --uid="$1" --display-name="$1" >/dev/null; }
