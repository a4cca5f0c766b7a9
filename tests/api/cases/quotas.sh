#!/usr/bin/env bash
# Quotas of live instances: per plan (x-osb.max_instances, and the config's quotas.plans by id or
# name, which wins) and per broker (quotas.max_instances), checked before anything is made: 422
# QuotaExceeded with a description, nothing created; repeats of an existing instance and deleted
# instances do not count; a plan change into a full plan is refused the same way; /metrics shows them.
. "$(dirname "$0")/../lib.sh"
jq '(.services[0].plans[] | select(.id == "plan-large") | ."x-osb") = {"max_instances": 5}' \
	"$ROOT/tests/api/catalog.json" >"$WORK/catalog.json"
CATALOG=$WORK/catalog.json
start_broker '"quotas": {"max_instances": 6, "plans": {"plan-large": 2, "sync": 3}}'

for i in 1 2; do
	req PUT /v2/service_instances/q-large-$i "$(provision_body plan-large)"
	expect_status 201 "provision large $i of 2"
done
req PUT /v2/service_instances/q-large-3 "$(provision_body plan-large)"
expect_error 422 QuotaExceeded "provision large 3: the config's quota of the plan (2, over x-osb's 5) is used up"
expect_jq '.description | test("quota of plan large is used up: 2 of 2")' true "the description names the plan and the numbers"
req GET /v2/service_instances/q-large-3
expect_status 404 "the refused provision made no record"
expect_true "and no tenant (2 so far)" [ "$(tenants)" = 2 ]
req PUT /v2/service_instances/q-large-1 "$(provision_body plan-large)"
expect_status 200 "a repeat of an existing instance is not a new one"

for i in 1 2 3; do
	req PUT /v2/service_instances/q-sync-$i "$(provision_body plan-sync)"
	expect_status 201 "provision sync $i of 3 (quota by plan name)"
done
req PUT /v2/service_instances/q-sync-4 "$(provision_body plan-sync)"
expect_error 422 QuotaExceeded "provision sync 4"

req PUT /v2/service_instances/q-fixed-1 "$(provision_body plan-fixed)"
expect_status 201 "the sixth instance of the broker"
req PUT /v2/service_instances/q-fixed-2 "$(provision_body plan-fixed)"
expect_error 422 QuotaExceeded "a seventh: the broker's quota (6) is used up"
expect_jq '.description | test("broker.s quota is used up: 6 of 6")' true "the description says it is the broker's"

req PATCH /v2/service_instances/q-sync-1 '{"service_id":"svc-fake","plan_id":"plan-large"}'
expect_error 422 QuotaExceeded "a plan change into the full plan large"
req GET /v2/service_instances/q-sync-1
expect_jq '.plan_id' plan-sync "the refused update changed nothing"

req DELETE "/v2/service_instances/q-large-2?service_id=svc-fake&plan_id=plan-large"
expect_status 200 "deprovision one large"
req PATCH /v2/service_instances/q-sync-1 '{"service_id":"svc-fake","plan_id":"plan-large"}'
expect_status 200 "the plan change fits now"
req PUT /v2/service_instances/q-large-3 "$(provision_body plan-large)"
expect_error 422 QuotaExceeded "large is full again (q-large-1 and q-sync-1)"

req GET /metrics
expect_true "metrics: the limit of plan large" grep -q '^osb_quota_instances_limit{plan="large"} 2$' <<<"$BODY"
expect_true "metrics: its use" grep -q '^osb_quota_instances_used{plan="large"} 2$' <<<"$BODY"
expect_true "metrics: the broker's limit and use" grep -q '^osb_quota_instances_used{plan=""} 5$' <<<"$BODY"

stop_broker
jq '.quotas = {"plans": {"sync": "three"}}' "$WORK/config.json" >"$WORK/bad.json"
out=$("$FAKE" --config "$WORK/bad.json" --check-config 2>&1)
expect_true "a quota that is no number stops the broker, naming the key" grep -q 'quotas.plans.sync' <<<"$out"
finish
