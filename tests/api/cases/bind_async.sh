#!/usr/bin/env bash
# Asynchronous bindings: AsyncRequired, 202 without credentials, repeats, fetch 404 while creating,
# credentials on fetch after success, failures, async unbind.
. "$(dirname "$0")/../lib.sh"
start_broker

req PUT "/v2/service_instances/ia?accepts_incomplete=true" "$(provision_body plan-async)"
expect_true "instance ready" poll_instance ia
B=/v2/service_instances/ia/service_bindings

req PUT "$B/ba-1" '{"service_id":"svc-fake","plan_id":"plan-async","parameters":{"delay_ms":4000}}'
expect_error 422 AsyncRequired "async binding without accepts_incomplete"
req PUT "$B/ba-1?accepts_incomplete=false" '{"service_id":"svc-fake","plan_id":"plan-async","parameters":{"delay_ms":4000}}'
expect_error 422 AsyncRequired "async binding with accepts_incomplete=false"
req GET "$B/ba-1/last_operation"
expect_status 404 "AsyncRequired left no binding"

req PUT "$B/ba-1?accepts_incomplete=true" '{"service_id":"svc-fake","plan_id":"plan-async","parameters":{"delay_ms":4000}}'
expect_status 202 "async bind"
OP=$(jqb .operation)
expect_jq '.operation | type == "string" and length > 0 and length <= 10000' true "with an operation"
expect_absent '.credentials' "202 carries no credentials"
req PUT "$B/ba-1?accepts_incomplete=true" '{"service_id":"svc-fake","plan_id":"plan-async","parameters":{"delay_ms":4000}}'
expect_status 202 "identical repeat while creating answers 202, not 200"
expect_jq '.operation' "$OP" "with the same operation"
expect_absent '.credentials' "still no credentials"
req PUT "$B/ba-1?accepts_incomplete=true" '{"service_id":"svc-fake","plan_id":"plan-async","parameters":{"delay_ms":1}}'
expect_error 409 Conflict "different parameters while creating"
req GET "$B/ba-1"
expect_error 404 NotFound "fetch while creating is 404"
req GET "$B/ba-1/last_operation?operation=$OP&service_id=svc-fake&plan_id=plan-async"
expect_status 200 "binding last_operation"
expect_jq '.state' "in progress" "in progress"
expect_header Retry-After '[0-9]+' "Retry-After while creating"
req DELETE "$B/ba-1?service_id=svc-fake&plan_id=plan-async&accepts_incomplete=true"
expect_error 422 ConcurrencyError "unbind while creating"
expect_true "the bind finishes" poll_binding ia ba-1 "$OP"
expect_jq '.state' succeeded "bind succeeded"
expect_absent '.instance_usable' "no instance_usable on a binding operation"
req GET "$B/ba-1"
expect_status 200 "fetch right after succeeded"
expect_jq '.credentials.username' "$(binding_tenant ba-1)" "fetch returns the credentials of an async binding"
expect_jq '.parameters.delay_ms' 4000 "fetch returns the parameters"
PW=$(jqb .credentials.password)
req PUT "$B/ba-1?accepts_incomplete=true" '{"service_id":"svc-fake","plan_id":"plan-async","parameters":{"delay_ms":4000}}'
expect_status 200 "identical repeat after completion"
expect_jq '.credentials.password' "$PW" "with the same credentials"

# A failing async bind
req PUT "$B/ba-2?accepts_incomplete=true" '{"service_id":"svc-fake","plan_id":"plan-async","parameters":{"fail":"bind:EUNPROCESSABLE"}}'
expect_status 202 "async bind that will fail"
OP2=$(jqb .operation)
poll_binding ia ba-2 "$OP2"
expect_jq '.state' failed "failed"
expect_jq '.description | length > 0' true "with a description"
expect_absent '.instance_usable' "no instance_usable"
req GET "$B/ba-2"
expect_status 404 "fetch of a failed binding is 404"
expect_true "no user left" sh -c "! test -f '$WORK/data/fake-tenants/$(binding_tenant ba-2)'"

# Async unbind
req DELETE "$B/ba-1?service_id=svc-fake&plan_id=plan-async"
expect_error 422 AsyncRequired "async unbind without accepts_incomplete"
req GET "$B/ba-1"
expect_status 200 "AsyncRequired kept the binding"
req DELETE "$B/ba-1?service_id=svc-fake&plan_id=plan-async&accepts_incomplete=true"
expect_status 202 "async unbind"
UOP=$(jqb .operation)
expect_jq '.operation | length > 0' true "with an operation"
req DELETE "$B/ba-1?service_id=svc-fake&plan_id=plan-async&accepts_incomplete=true"
expect_status 202 "repeat while unbinding answers 202, not 200"
expect_jq '.operation' "$UOP" "with the same operation"
expect_true "the unbind finishes" poll_binding ia ba-1 "$UOP"
expect_status 200 "last_operation with the finished unbind's operation: 200 (as other brokers answer)"
expect_jq '.state' succeeded "succeeded"
req GET "$B/ba-1/last_operation"
expect_status 410 "last_operation of the unbound binding without the operation is 410 Gone"
req GET "$B/ba-1/last_operation?operation=unbind"
expect_status 410 "and with an operation value the broker never issued"
req DELETE "$B/ba-1?service_id=svc-fake&plan_id=plan-async&accepts_incomplete=true"
expect_status 410 "unbind again is 410"
expect_true "the user is gone" sh -c "! test -f '$WORK/data/fake-tenants/$(binding_tenant ba-1)'"

# A failing async unbind keeps the binding
req PUT "$B/ba-3?accepts_incomplete=true" '{"service_id":"svc-fake","plan_id":"plan-async","parameters":{"fail":"unbind:EBADREQUEST"}}'
poll_binding ia ba-3 "$(jqb .operation)"
req DELETE "$B/ba-3?service_id=svc-fake&plan_id=plan-async&accepts_incomplete=true"
expect_status 202 "async unbind that will fail"
poll_binding ia ba-3 "$(jqb .operation)"
expect_jq '.state' failed "unbind failed"
req GET "$B/ba-3"
expect_status 200 "the binding is still there"
expect_true "with its user" has_binding ba-3
finish
