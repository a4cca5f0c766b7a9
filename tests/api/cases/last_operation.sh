#!/usr/bin/env bash
# last_operation of instances and bindings: states, Retry-After, operation ids checked, 404 for unknown,
# the plan's maximum_polling_duration ends an operation as failed.
. "$(dirname "$0")/../lib.sh"
start_broker

req GET /v2/service_instances/l-none/last_operation
expect_error 404 NotFound "unknown instance"
req GET /v2/service_instances/l-none/service_bindings/lb-none/last_operation
expect_error 404 NotFound "unknown binding"

req PUT /v2/service_instances/l-1 "$(provision_body plan-sync)"
req GET /v2/service_instances/l-1/last_operation
expect_status 200 "last_operation of a sync provision"
expect_jq '.state' succeeded "succeeded"
expect_no_header Retry-After "no Retry-After when finished"
req GET "/v2/service_instances/l-1/last_operation?operation="
expect_error 400 BadRequest "empty operation"
# Clients that poll with their own names for operations get the latest operation's state.
req GET "/v2/service_instances/l-1/last_operation?operation=0123456789abcdef0123456789abcdef"
expect_status 200 "an operation value the broker never issued: the latest operation"
expect_jq '.state' succeeded "its state"
req GET "/v2/service_instances/l-1/last_operation?operation=provision"
expect_status 200 "operation=provision (a conformance client's own name)"
expect_jq '.state' succeeded "the provision's state"
req GET "/v2/service_instances/l-1/last_operation?operation=$(head -c 300 /dev/zero | tr '\0' x)"
expect_status 200 "a 300-character value the broker never issued"
req GET "/v2/service_instances/l-1/last_operation?operation=a%00b"
expect_error 400 BadRequest "an operation value with a NUL byte is malformed"
req GET "/v2/service_instances/l-1/last_operation?service_id="
expect_error 400 BadRequest "empty service_id hint"

req PUT "/v2/service_instances/l-a?accepts_incomplete=true" "$(provision_body plan-async '{"delay_ms":3000}')"
OPA=$(jqb .operation)
req PUT "/v2/service_instances/l-b?accepts_incomplete=true" "$(provision_body plan-async)"
OPB=$(jqb .operation)
req GET "/v2/service_instances/l-a/last_operation?operation=$OPB"
expect_error 400 BadRequest "an operation of another instance"
req GET "/v2/service_instances/l-a/last_operation?operation=$OPA&service_id=svc-fake&plan_id=plan-async"
expect_jq '.state' "in progress" "in progress"
expect_header Retry-After '3' "Retry-After as configured (3 s)"
expect_jq '[.state] | inside(["in progress","succeeded","failed"])' true "state is one of the three values"
poll_instance l-a "$OPA"
expect_jq '.state' succeeded "succeeded"
req GET "/v2/service_instances/l-a/last_operation?operation=$OPA"
expect_jq '.state' succeeded "asked again, still succeeded (not forgotten)"

# An update's operation, then the provision's operation is still known
req PATCH "/v2/service_instances/l-a?accepts_incomplete=true" '{"service_id":"svc-fake","parameters":{"a":1}}'
OPU=$(jqb .operation)
poll_instance l-a "$OPU"
expect_jq '.state' succeeded "update succeeded"
req GET /v2/service_instances/l-a/last_operation
expect_jq '.state' succeeded "without operation: the last one"
req GET "/v2/service_instances/l-a/last_operation?operation=$OPA&plan_id=plan-async"
expect_status 200 "the earlier provision operation is still answered"

# Bindings
req PUT "/v2/service_instances/l-a/service_bindings/lb-1?accepts_incomplete=true" '{"service_id":"svc-fake","plan_id":"plan-async"}'
BOP=$(jqb .operation)
req PUT "/v2/service_instances/l-a/service_bindings/lb-2?accepts_incomplete=true" '{"service_id":"svc-fake","plan_id":"plan-async"}'
BOP2=$(jqb .operation)
req GET "/v2/service_instances/l-a/service_bindings/lb-1/last_operation?operation=$BOP2"
expect_error 400 BadRequest "an operation of another binding"
req GET "/v2/service_instances/l-a/service_bindings/lb-1/last_operation?operation=$OPA"
expect_error 400 BadRequest "an instance operation on a binding"
req GET "/v2/service_instances/l-a/last_operation?operation=$BOP"
expect_error 400 BadRequest "a binding operation on the instance"
req GET "/v2/service_instances/l-b/service_bindings/lb-1/last_operation?operation=$BOP"
expect_error 404 NotFound "a binding polled through another instance"
poll_binding l-a lb-1 "$BOP"
expect_jq '.state' succeeded "binding succeeded"
req PUT /v2/service_instances/l-1/service_bindings/lb-s "$(bind_body plan-sync)"
req GET /v2/service_instances/l-1/service_bindings/lb-s/last_operation
expect_jq '.state' succeeded "last_operation of a sync binding"

# maximum_polling_duration: a server that stays down ends the operation as failed within it.
req PUT "/v2/service_instances/l-short?accepts_incomplete=true" '{"service_id":"svc-fake","plan_id":"plan-async-short","organization_guid":"o","space_guid":"s","parameters":{"fail":"provision:EBACKEND"}}'
expect_status 202 "provision on a plan polled for 3 s"
OPS=$(jqb .operation)
req GET "/v2/service_instances/l-short/last_operation?operation=$OPS"
expect_jq '.state' "in progress" "retrying at first"
sleep 5
req GET "/v2/service_instances/l-short/last_operation?operation=$OPS"
expect_jq '.state' failed "failed once the maximum polling duration passed"
req GET /v2/service_instances/l-short
expect_status 404 "and nothing is left"
finish
