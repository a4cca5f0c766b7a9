#!/usr/bin/env bash
# Overlapping requests: a second mutation while one runs gets 422 ConcurrencyError, identical repeats of an
# in-flight async operation get 202 with the same operation, racing identical requests create exactly one resource.
. "$(dirname "$0")/../lib.sh"
start_broker

# --- a slow synchronous provision in flight
bg_req slow PUT /v2/service_instances/c-1 "$(provision_body plan-sync '{"delay_ms":3000}')"
expect_true "the slow provision is under way" wait_for 10 sh -c "[ \"\$(curl -s -u $USER_NAME:$USER_PASS -H 'X-Broker-API-Version: 2.17' $BASE/v2/service_instances/c-1/last_operation | jq -r .state)\" = 'in progress' ]"
req PATCH /v2/service_instances/c-1 '{"service_id":"svc-fake","parameters":{"size":3}}'
expect_error 422 ConcurrencyError "update during a provision"
req DELETE "/v2/service_instances/c-1?service_id=svc-fake&plan_id=plan-sync"
expect_error 422 ConcurrencyError "delete during a provision"
req DELETE "/v2/service_instances/c-1?service_id=svc-fake&plan_id=plan-sync&accepts_incomplete=true"
expect_error 422 ConcurrencyError "delete with accepts_incomplete during a provision"
req PUT /v2/service_instances/c-1/service_bindings/cb-1 "$(bind_body plan-sync)"
expect_error 422 ConcurrencyError "bind during a provision"
req PUT /v2/service_instances/c-1 "$(provision_body plan-sync '{"delay_ms":2999}')"
expect_error 409 Conflict "different provision during a provision"
# A re-sent request: 202 with the running operation when the client accepts it, else it waits for the first.
req PUT "/v2/service_instances/c-1?accepts_incomplete=true" "$(provision_body plan-sync '{"delay_ms":3000}')"
expect_status 202 "identical repeat with accepts_incomplete during a sync provision answers 202"
OPS=$(jqb .operation)
expect_jq '.dashboard_url' "https://dashboard.example.test/$(instance_tenant c-1)" "with the dashboard_url"
req GET "/v2/service_instances/c-1/last_operation?operation=$OPS"
expect_jq '.state' "in progress" "its operation is the running provision"
req PUT /v2/service_instances/c-1 "$(provision_body plan-sync '{"delay_ms":3000}')"
expect_status 200 "identical synchronous repeat during a provision waits for it and answers 200"
expect_jq '.dashboard_url' "https://dashboard.example.test/$(instance_tenant c-1)" "with the instance"
bg_wait slow
expect_status 201 "the slow provision ends with 201"
expect_true "exactly one tenant" [ "$(tenants)" = 1 ]
req GET /v2/service_instances/c-1
expect_jq '.parameters.delay_ms' 3000 "the refused requests changed nothing"
req GET /v2/service_instances/c-1/service_bindings/cb-1
expect_status 404 "no binding from the refused bind"

# --- a slow synchronous update in flight
bg_req upd PATCH /v2/service_instances/c-1 '{"service_id":"svc-fake","parameters":{"size":4,"delay_ms":3000}}'
expect_true "the slow update is under way" wait_for 10 sh -c "curl -s -u $USER_NAME:$USER_PASS -H 'X-Broker-API-Version: 2.17' $BASE/v2/service_instances/c-1 | grep -q ConcurrencyError"
req GET /v2/service_instances/c-1
expect_error 422 ConcurrencyError "fetch during an update"
req PATCH /v2/service_instances/c-1 '{"service_id":"svc-fake","parameters":{"size":5}}'
expect_error 422 ConcurrencyError "second update during an update"
req DELETE "/v2/service_instances/c-1?service_id=svc-fake&plan_id=plan-sync"
expect_error 422 ConcurrencyError "delete during an update"
bg_wait upd
expect_status 200 "the slow update ends with 200"
req GET /v2/service_instances/c-1
expect_jq '.parameters.size' 4 "only the first update applied"

# --- an async provision in flight
req PUT "/v2/service_instances/c-a?accepts_incomplete=true" "$(provision_body plan-async '{"delay_ms":3000}')"
OP=$(jqb .operation)
for i in 1 2 3; do
	req PUT "/v2/service_instances/c-a?accepts_incomplete=true" "$(provision_body plan-async '{"delay_ms":3000}')"
	expect_status 202 "identical repeat $i of an in-flight async provision"
	expect_jq '.operation' "$OP" "same operation on repeat $i"
done
req DELETE "/v2/service_instances/c-a?service_id=svc-fake&plan_id=plan-async&accepts_incomplete=true"
expect_error 422 ConcurrencyError "delete during an async provision"
req PATCH "/v2/service_instances/c-a?accepts_incomplete=true" '{"service_id":"svc-fake","parameters":{"x":1}}'
expect_error 422 ConcurrencyError "update during an async provision"
req PUT "/v2/service_instances/c-a/service_bindings/cb-a?accepts_incomplete=true" '{"service_id":"svc-fake","plan_id":"plan-async"}'
expect_error 422 ConcurrencyError "bind during an async provision"
poll_instance c-a "$OP"
expect_jq '.state' succeeded "the async provision succeeded regardless"

# --- deprovision while a binding is being created
req PUT "/v2/service_instances/c-a/service_bindings/cb-slow?accepts_incomplete=true" '{"service_id":"svc-fake","plan_id":"plan-async","parameters":{"delay_ms":3000}}'
BOP=$(jqb .operation)
req DELETE "/v2/service_instances/c-a?service_id=svc-fake&plan_id=plan-async&accepts_incomplete=true"
expect_error 422 ConcurrencyError "deprovision while a binding is being created"
poll_binding c-a cb-slow "$BOP"
expect_jq '.state' succeeded "the binding was created"

# --- racing identical requests
for i in 1 2 3 4 5; do
	bg_req "race$i" PUT /v2/service_instances/c-race "$(provision_body plan-sync '{"delay_ms":500}')"
done
created=0 refused=0 other=0
for i in 1 2 3 4 5; do
	bg_wait "race$i"
	case "$STATUS:$(jqb .error)" in
	201:*) created=$((created + 1)) ;;
	200:*) ;;
	422:ConcurrencyError) refused=$((refused + 1)) ;;
	*) other=$((other + 1)); echo "     unexpected: $STATUS $BODY" ;;
	esac
done
expect_true "exactly one of five racing provisions created it ($created created, $refused refused)" [ "$created" = 1 ]
expect_true "the others got 200 or 422 ConcurrencyError" [ "$other" = 0 ]
expect_true "one tenant for the raced instance" has_instance c-race
for i in 1 2 3 4; do
	bg_req "bind$i" PUT "/v2/service_instances/c-1/service_bindings/cb-par-$i" "$(bind_body plan-sync)"
done
ok=0
for i in 1 2 3 4; do
	bg_wait "bind$i"
	[ "$STATUS" = 201 ] && ok=$((ok + 1))
done
expect_true "four parallel binds of one instance all succeed ($ok)" [ "$ok" = 4 ]
for i in 1 2 3; do
	bg_req "same$i" PUT /v2/service_instances/c-1/service_bindings/cb-same "$(bind_body plan-sync '{"delay_ms":500}')"
done
created=0 other=0
for i in 1 2 3; do
	bg_wait "same$i"
	case "$STATUS:$(jqb .error)" in
	201:*) created=$((created + 1)) ;;
	200:* | 422:ConcurrencyError) ;;
	*) other=$((other + 1)); echo "     unexpected: $STATUS $BODY" ;;
	esac
done
expect_true "one of three racing identical binds created it, the others got 200 or 422" [ "$created:$other" = 1:0 ]
expect_live "the broker is still live"
finish
