#!/usr/bin/env bash
# DELETE /v2/service_instances/:id: 200 {}, 410 for unknown, 400 for missing or wrong hints, failures keep
# the instance, async deprovision with 202 repeats and 410 on last_operation.
. "$(dirname "$0")/../lib.sh"
start_broker

req PUT /v2/service_instances/d-1 "$(provision_body plan-sync)"
req DELETE /v2/service_instances/d-1
expect_error 400 BadRequest "missing service_id and plan_id"
req DELETE "/v2/service_instances/d-1?plan_id=plan-sync"
expect_error 400 BadRequest "missing service_id"
req DELETE "/v2/service_instances/d-1?service_id=svc-fake"
expect_error 400 BadRequest "missing plan_id"
req DELETE "/v2/service_instances/d-1?service_id=&plan_id=plan-sync"
expect_error 400 BadRequest "empty service_id"
req DELETE "/v2/service_instances/d-1?service_id=svc-fake&plan_id=plan-large"
expect_error 400 BadRequest "plan_id not the instance's"
req DELETE "/v2/service_instances/d-1?service_id=svc-other&plan_id=plan-sync"
expect_error 400 BadRequest "service_id not the instance's"
req DELETE "/v2/service_instances/d-1?service_id=svc-fake&plan_id=plan-sync&accepts_incomplete=maybe"
expect_error 400 BadRequest "accepts_incomplete=maybe"
req GET /v2/service_instances/d-1
expect_status 200 "refused deletes kept the instance"
expect_true "and its tenant" has_instance d-1

req DELETE "/v2/service_instances/d-1?service_id=svc-fake&plan_id=plan-sync&accepts_incomplete=true"
expect_status 200 "deprovision a sync plan (accepts_incomplete ignored)"
expect_jq '. == {}' true "body is {}"
expect_true "the tenant is gone" sh -c "! test -f '$WORK/data/fake-tenants/$(instance_tenant d-1)'"
req DELETE "/v2/service_instances/d-1?service_id=svc-fake&plan_id=plan-sync"
expect_status 410 "again is 410 Gone"
expect_jq '. == {}' true "410 body is {}"
req DELETE "/v2/service_instances/never?service_id=svc-fake&plan_id=plan-sync"
expect_status 410 "unknown instance is 410 Gone"
req GET /v2/service_instances/d-1/last_operation
expect_status 410 "last_operation after the deprovision is 410 (a choice: the instance is gone)"

# Bindings are deleted with their instance.
req PUT /v2/service_instances/d-2 "$(provision_body plan-sync)"
req PUT /v2/service_instances/d-2/service_bindings/db-1 "$(bind_body plan-sync)"
expect_status 201 "bind before deprovision"
req DELETE "/v2/service_instances/d-2?service_id=svc-fake&plan_id=plan-sync"
expect_status 200 "deprovision an instance with a binding"
req GET /v2/service_instances/d-2/service_bindings/db-1
expect_status 404 "its binding is gone too"
req DELETE "/v2/service_instances/d-2/service_bindings/db-1?service_id=svc-fake&plan_id=plan-sync"
expect_status 410 "unbind after deprovision is 410"
# The broker forgets the binding, so its credentials must not stay valid on the server (the platform can no
# longer unbind it, and the reconciler would only find an orphan later).
expect_true "the binding's credentials are revoked with its instance" sh -c "! test -f '$WORK/data/fake-tenants/$(binding_tenant db-1)'"

# A failing deprovision keeps the instance usable; a second attempt works.
req PUT /v2/service_instances/d-3 "$(provision_body plan-sync '{"fail":"deprovision:EBACKEND","fail_times":1}')"
expect_status 201 "provision an instance whose first deprovision fails"
req DELETE "/v2/service_instances/d-3?service_id=svc-fake&plan_id=plan-sync"
expect_error 502 - "deprovision failing on the server"
expect_absent '.update_repeatable' "no update_repeatable on a deprovision error"
req GET /v2/service_instances/d-3
expect_status 200 "the instance is still there"
expect_true "with its tenant" has_instance d-3
req PUT /v2/service_instances/d-3/service_bindings/db-3 "$(bind_body plan-sync)"
expect_status 201 "and can still be bound"
req DELETE "/v2/service_instances/d-3/service_bindings/db-3?service_id=svc-fake&plan_id=plan-sync"
req DELETE "/v2/service_instances/d-3?service_id=svc-fake&plan_id=plan-sync"
expect_status 200 "the second deprovision works"
expect_true "tenant gone" sh -c "! test -f '$WORK/data/fake-tenants/$(instance_tenant d-3)'"

# Async deprovision
req PUT "/v2/service_instances/d-a?accepts_incomplete=true" "$(provision_body plan-async '{"delay_ms":3000}')"
poll_instance d-a
req DELETE "/v2/service_instances/d-a?service_id=svc-fake&plan_id=plan-async"
expect_error 422 AsyncRequired "async plan deprovision without accepts_incomplete"
req DELETE "/v2/service_instances/d-a?service_id=svc-fake&plan_id=plan-async&accepts_incomplete=true"
expect_status 202 "async deprovision"
OP=$(jqb .operation)
expect_jq '.operation | length > 0' true "with an operation"
req DELETE "/v2/service_instances/d-a?service_id=svc-fake&plan_id=plan-async&accepts_incomplete=true"
expect_status 202 "repeat while in progress answers 202, not 200"
expect_jq '.operation' "$OP" "with the same operation"
req DELETE "/v2/service_instances/d-a?service_id=svc-fake&plan_id=plan-async"
expect_error 422 - "repeat without accepts_incomplete while in progress"
req GET "/v2/service_instances/d-a/last_operation?operation=$OP"
expect_jq '.state' "in progress" "deprovision in progress"
expect_header Retry-After '[0-9]+' "Retry-After while deprovisioning"
req PATCH "/v2/service_instances/d-a?accepts_incomplete=true" '{"service_id":"svc-fake","parameters":{"x":1}}'
expect_error 422 ConcurrencyError "update while deprovisioning"
expect_true "the deprovision finishes" poll_instance d-a "$OP"
req GET "/v2/service_instances/d-a/last_operation?operation=$OP"
expect_status 200 "last_operation with the finished deprovision's operation: 200 (as other brokers answer)"
expect_jq '.state' succeeded "succeeded"
req GET /v2/service_instances/d-a/last_operation
expect_status 410 "last_operation of the deleted instance without the operation is 410 Gone"
req GET "/v2/service_instances/d-a/last_operation?operation=deprovision"
expect_status 410 "and with an operation value the broker never issued"
req DELETE "/v2/service_instances/d-a?service_id=svc-fake&plan_id=plan-async&accepts_incomplete=true"
expect_status 410 "delete after the async deprovision is 410"
expect_true "tenant gone" sh -c "! test -f '$WORK/data/fake-tenants/$(instance_tenant d-a)'"

# A failing async deprovision: failed state, the instance stays.
req PUT "/v2/service_instances/d-b?accepts_incomplete=true" "$(provision_body plan-async '{"fail":"deprovision:EUNPROCESSABLE"}')"
poll_instance d-b
req DELETE "/v2/service_instances/d-b?service_id=svc-fake&plan_id=plan-async&accepts_incomplete=true"
expect_status 202 "async deprovision that will fail"
OP=$(jqb .operation)
poll_instance d-b "$OP"
expect_status 200 "last_operation of a failed deprovision is 200"
expect_jq '.state' failed "state failed"
expect_absent '.update_repeatable' "no update_repeatable on a deprovision"
req GET /v2/service_instances/d-b
expect_status 200 "the instance is still there after a failed deprovision"
expect_true "only d-b is left on the server" has_instance d-b
finish
