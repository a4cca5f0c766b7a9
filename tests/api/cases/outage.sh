#!/usr/bin/env bash
# The service's server goes down: readiness 503 with JSON, catalog and liveness fine, sync operations fail fast
# with a JSON 5xx, async ones wait and finish once the server is back, without restarting the broker.
. "$(dirname "$0")/../lib.sh"
start_broker
req PUT /v2/service_instances/o-keep "$(provision_body plan-sync)"

touch "$WORK/data/fake-down"
NOAUTH=1 NOVERSION=1 req GET /health/ready
expect_status 503 "readiness is 503 during the outage"
expect_jq '.status' unready "readiness body is JSON and says unready"
expect_jq '.checks.fake.ok' false "it names the failing check"
expect_jq '.checks.store.ok' true "the store is fine"
NOAUTH=1 NOVERSION=1 req GET /health/live
expect_status 200 "liveness stays 200"
req GET /v2/catalog
expect_status 200 "the catalog is still served"
req GET /v2/service_instances/o-keep
expect_status 200 "fetch works from the records"

start=$(date +%s%N)
req PUT /v2/service_instances/o-sync "$(provision_body plan-sync)"
took=$((($(date +%s%N) - start) / 1000000))
expect_json_error "sync provision during the outage"
expect_true "it is a 5xx" [ "${STATUS:0:1}" = 5 ]
expect_true "and fast (${took} ms)" [ "$took" -lt 5000 ]
req GET /v2/service_instances/o-sync
expect_status 404 "no instance after it"
req PUT /v2/service_instances/o-keep/service_bindings/ob "$(bind_body plan-sync)"
expect_json_error "sync bind during the outage"
req DELETE "/v2/service_instances/o-keep?service_id=svc-fake&plan_id=plan-sync"
expect_json_error "sync deprovision during the outage"
req GET /v2/service_instances/o-keep
expect_status 200 "the instance stays"

req PUT "/v2/service_instances/o-async?accepts_incomplete=true" "$(provision_body plan-async)"
expect_status 202 "async provision during the outage is accepted"
OP=$(jqb .operation)
sleep 3
req GET "/v2/service_instances/o-async/last_operation?operation=$OP"
expect_jq '.state' "in progress" "it stays in progress while the server is down"
expect_jq '.description | test("Waiting")' true "saying it waits for the server"
rm -f "$WORK/data/fake-down"
NOAUTH=1 NOVERSION=1 req GET /health/ready
expect_status 200 "readiness is back to 200"
expect_true "the async provision finishes without a restart" poll_instance o-async "$OP"
expect_jq '.state' succeeded "it succeeded"
expect_true "its tenant exists" has_instance o-async
req PUT /v2/service_instances/o-sync "$(provision_body plan-sync)"
expect_status 201 "sync provisions work again"
finish
