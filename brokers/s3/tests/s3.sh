#!/usr/bin/env bash
# What only the s3 broker has, on a real radosgw (brokers/s3/server.sh) on the s3 fixture's Ceph
# cluster, seen with s3cmd, curl and the cluster's own radosgw-admin and rados: bad input changes
# nothing; an instance is a user owning one bucket with the plan's quota, which the gateway
# enforces (and a plan update changes); keys of one instance are refused on another's bucket; an
# unbound key, and a URL presigned with it, are refused at once; an orphan key is purged alone;
# deprovision leaves no bucket, user, key or object in the cluster.
# Usage: s3.sh BROKER_BINARY REPO_ROOT
set -euo pipefail
BROKER_BIN=${1:?usage: s3.sh BROKER_BINARY REPO_ROOT}
ROOT=${2:?repo root}
# shellcheck source=../../../tests/lib/broker.sh
. "$ROOT/tests/lib/broker.sh"
# shellcheck source=adapter.sh
. "$ROOT/brokers/s3/tests/adapter.sh"
t_init s3
use_catalog "$ROOT/catalog/s3.json"
# shellcheck disable=SC2086
need $ADAPTER_TOOLS rados
MICRO=$(plan_id micro)
STANDARD=$(plan_id standard)
SERVER_PORT=$(free_port)
SERVER_SECRET=$(secret)
SECRET_WORDS="$SERVER_SECRET $BROKER_PW"
t_on_exit adapter_server_stop "$WORK/server"
adapter_server_start "$WORK/server" "$SERVER_PORT" "$SERVER_SECRET"
broker_config "$(adapter_driver_config "$SERVER_PORT" "$SERVER_SECRET")"
broker_start
wait_ready 200 30
MiB=$((1024 * 1024))
# expect_refused WHAT CODE COMMAND...: the command fails and its output names the gateway's CODE.
expect_refused() {
	local what=$1 code=$2 out
	shift 2
	out=$("$@" 2>&1) && fail "$what: expected the gateway to refuse it, got: $out"
	grep -q "$code" <<<"$out" || fail "$what: expected $code, got: $out"
}

step "1. bad input gets a clear JSON error and makes nothing on the gateway"
osb PUT "/v2/service_instances/$(new_id)?accepts_incomplete=true" \
	"$(provision_body "$MICRO" '{"max_size_mb": 1}')"
expect_status 400 "provision with an unknown parameter"
jq -e '.description | test("max_size_mb")' <<<"$body" >/dev/null || fail "provision: no parameter named in: $body"
osb PUT "/v2/service_instances/$(new_id)?accepts_incomplete=true" "$(provision_body "no-such-plan")"
expect_status 400 "provision on an unknown plan"
[ -z "$(adapter_tenants)" ] ||
	fail "refused provisions left something on the gateway: $(adapter_tenants | tr '\n' ' ')"
jq '.driver.region = "US East 1"' "$BROKER_CONFIG" >"$WORK/bad.json"
out=$("$BROKER_BIN" --config "$WORK/bad.json" --check-config 2>&1) && fail "--check-config took a bad driver.region"
grep -q 'driver.region' <<<"$out" || fail "--check-config: expected a message naming driver.region, got: $out"

step "2. an instance is a user owning one bucket, with the plan's quota on both, and no key of its own"
ia=$(new_id)
provision "$ia" "$MICRO"
uid=$(instance_name "$ia")
bucket=osb-${uid#osb_}
info=$(rgw_admin user info --uid="$uid") || fail "no user $uid on the gateway"
jq -e --argjson size $((10 * MiB)) '.max_buckets == 1 and (.keys | length) == 0 and
	([.user_quota, .bucket_quota][] | .enabled and .max_size == $size and .max_objects == 1000)' <<<"$info" >/dev/null ||
	fail "user $uid: expected one bucket at most, no key, and quotas of 10 MiB and 1000 objects: $info"
[ "$(rgw_admin bucket stats --bucket="$bucket" | jq -r .owner)" = "$uid" ] || fail "bucket $bucket is not owned by $uid"

step "3. a binding is an S3 key of that user, in the credentials S3 clients read"
ba=$(new_id)
ca=$(bind "$ia" "$ba" "$MICRO")
ca2=$(bind "$ia" "$(new_id)" "$MICRO")
jq -e --arg b "$bucket" --arg ep "http://127.0.0.1:$SERVER_PORT" '.bucket == $b and .endpoint == $ep and
	.region == "us-east-1" and .username == .access_key_id and .password == .secret_access_key and
	.uri == "s3://\(.access_key_id):\(.secret_access_key)@127.0.0.1:\(.port)/\($b)"' <<<"$ca" >/dev/null ||
	fail "credentials: unexpected shape: $(jq -c 'del(.password, .secret_access_key, .uri)' <<<"$ca")"
[ "$(jq -r .access_key_id <<<"$ca")" = "$(binding_name "$ba")" ] || fail "the key is not named after the binding"
out=$(s3_as "$ca" ls "s3://$bucket" 2>&1) || fail "binding a cannot list its bucket: $out"
expect_refused "a second bucket" TooManyBuckets s3_as "$ca" mb "s3://$bucket-2"

step "4. the gateway enforces the plan's quota (micro: 10 MiB)"
head -c $((6 * MiB)) /dev/urandom >"$WORK/six"
s3_as "$ca" put "$WORK/six" "s3://$bucket/first" >/dev/null || fail "a 6 MiB object under the 10 MiB quota was refused"
expect_refused "6 MiB more over the 10 MiB quota" QuotaExceeded s3_as "$ca" put "$WORK/six" "s3://$bucket/second"

step "5. a plan update changes the quota live (standard: 1 GiB)"
osb PATCH "/v2/service_instances/$ia?accepts_incomplete=true" \
	"$(jq -cn --arg s "$SERVICE_ID" --arg p "$STANDARD" '{service_id: $s, plan_id: $p}')"
expect_status 202 "update to standard"
[ "$(wait_operation "/v2/service_instances/$ia" "update $ia")" = succeeded ] || fail "update: $body"
rgw_admin user info --uid="$uid" | jq -e --argjson size $((1024 * MiB)) '.user_quota.max_size == $size' >/dev/null ||
	fail "update: the user's quota is not 1 GiB"
s3_as "$ca" put "$WORK/six" "s3://$bucket/second" >/dev/null || fail "update: the write is still refused"

step "6. a key of instance B is refused on instance A's bucket"
ib=$(new_id)
provision "$ib" "$MICRO"
cb=$(bind "$ib" "$(new_id)" "$MICRO")
printf 'a-data' >"$WORK/small"
s3_as "$ca" put "$WORK/small" "s3://$bucket/small" >/dev/null || fail "binding a cannot write a small object"
expect_refused "b lists a's bucket" AccessDenied s3_as "$cb" ls "s3://$bucket"
expect_refused "b reads a's object" 403 s3_as "$cb" get --force "s3://$bucket/small" "$WORK/stolen"
expect_refused "b writes into a's bucket" AccessDenied s3_as "$cb" put "$WORK/small" "s3://$bucket/planted"
expect_refused "b deletes a's object" AccessDenied s3_as "$cb" del "s3://$bucket/small"
[ "$(s3_as "$cb" ls | grep -c 's3://')" = 1 ] || fail "b's key sees more buckets than its own: $(s3_as "$cb" ls)"

step "7. unbind revokes the key at once, and URLs presigned with it"
url=$(s3_as "$ca" signurl "s3://$bucket/small" +600) || fail "s3cmd cannot presign a URL"
[ "$(curl -s "$url")" = a-data ] || fail "the presigned URL does not work before unbind"
unbind "$ia" "$ba" "$MICRO"
expect_refused "the unbound key" InvalidAccessKeyId s3_as "$ca" ls "s3://$bucket"
code=$(curl -s -o /dev/null -w '%{http_code}' "$url")
[ "$code" = 403 ] || fail "the URL presigned with the unbound key answered $code, expected 403"
[ "$(S3_TIMEOUT=30 s3_as "$ca2" get --force "s3://$bucket/small" - 2>/dev/null)" = a-data ] ||
	fail "unbind of a broke a's other binding"

step "8. reconcile reports a key made behind the broker's back, and purges it alone"
orphan=osb_0123456789abcdef0124
rgw_admin key create --uid="$uid" --key-type=s3 --access-key="$orphan" --gen-secret >/dev/null ||
	fail "cannot make the orphan key"
broker_run --reconcile || fail "--reconcile: exit status not 0"
grep -q "\"orphan\":\"$orphan\"" <<<"$out" || fail "--reconcile: expected orphan key $orphan, got: $out"
! grep -q "$(jq -r .access_key_id <<<"$ca2")" <<<"$out" || fail "--reconcile: a live key reported as an orphan: $out"
broker_run --reconcile=purge || fail "--reconcile=purge: exit status not 0"
! adapter_tenants | grep -qx "$orphan" || fail "--reconcile=purge: key $orphan is still there"
s3_as "$ca2" ls "s3://$bucket" >/dev/null || fail "--reconcile=purge broke a live key"

step "9. deprovision deletes the bucket and every object in it, the user and its keys"
marker=$(rgw_admin bucket stats --bucket="$bucket" | jq -r .marker)
case $marker in '' | null) fail "no marker for bucket $bucket" ;; esac
rados -c "$OSB_S3_CLUSTER/ceph.conf" -p default.rgw.buckets.data ls | grep -q "^$marker" ||
	fail "no object of bucket $bucket in the data pool before deprovision"
deprovision "$ia" "$STANDARD"
! rgw_admin user info --uid="$uid" >/dev/null || fail "deprovision: user $uid is still there"
! rgw_admin bucket list | jq -r '.[]' | grep -qx "$bucket" || fail "deprovision: bucket $bucket is still there"
expect_refused "a's other key after deprovision" InvalidAccessKeyId s3_as "$ca2" ls "s3://$bucket"
# Objects go at once; the tails of large ones through RGW's garbage collector (fast on this test server).
for _ in $(seq 1 150); do
	left=$(rados -c "$OSB_S3_CLUSTER/ceph.conf" -p default.rgw.buckets.data ls | grep -c "^$marker" || true)
	[ "$left" = 0 ] && break
	sleep 0.2
done
[ "$left" = 0 ] || fail "deprovision: $left RADOS objects of bucket $bucket left after 30 s"
s3_as "$cb" put "$WORK/small" "s3://$(jq -r .bucket <<<"$cb")/b" >/dev/null || fail "deprovision of a broke instance b"
deprovision "$ib" "$MICRO"
[ -z "$(adapter_tenants)" ] || fail "broker-made names left on the gateway: $(adapter_tenants | tr '\n' ' ')"

step "10. no secret in the logs; the broker stops cleanly"
no_secret_in "$BROKER_LOG" "$WORK/broker-runs.log"
broker_stop
echo "PASS: s3 broker"
