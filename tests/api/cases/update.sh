#!/usr/bin/env bash
# PATCH /v2/service_instances/:id: parameters, plan changes, context-only updates, failures that change nothing,
# instance_usable/update_repeatable on update errors only, async updates.
. "$(dirname "$0")/../lib.sh"
start_broker

req PUT /v2/service_instances/u-1 "$(provision_body plan-sync '{"size":2,"label":"a"}')"
expect_status 201 "provision"

req PATCH /v2/service_instances/u-1 '{"service_id":"svc-fake","parameters":{"size":5}}'
expect_status 200 "update parameters"
expect_jq '. == {}' true "update body is {}"
req GET /v2/service_instances/u-1
expect_jq '[.plan_id, .parameters.size, .parameters.label] | join(",")' "plan-sync,5,a" "new parameter applied, others kept, plan unchanged without plan_id"

req PATCH /v2/service_instances/u-1 '{"service_id":"svc-fake","plan_id":"plan-sync","context":{"platform":"cloudfoundry","instance_name":"renamed"}}'
expect_status 200 "context-only update (allow_context_updates)"
req GET /v2/service_instances/u-1
expect_jq '[.plan_id, .parameters.size, .parameters.label] | join(",")' "plan-sync,5,a" "parameters unchanged without parameters"

req PATCH /v2/service_instances/u-1 '{"service_id":"svc-fake","plan_id":"plan-large","previous_values":{"plan_id":"plan-sync","service_id":"svc-fake","organization_id":"org-1","space_id":"space-1"},"x-acme":{"ignored":true}}'
expect_status 200 "plan change (with previous_values and an extension field)"
req GET /v2/service_instances/u-1
expect_jq '.plan_id' plan-large "plan changed"
expect_true "the server got the new plan" grep -qx plan-large "$WORK/data/fake-tenants/$(instance_tenant u-1)"

req PATCH /v2/service_instances/u-1 '{"service_id":"svc-fake","plan_id":"plan-other"}'
expect_error 400 BadRequest "plan of another service"
req PATCH /v2/service_instances/u-1 '{"service_id":"svc-fake","plan_id":"plan-nope"}'
expect_error 400 BadRequest "unknown plan"
req PATCH /v2/service_instances/u-1 '{"service_id":"svc-other","plan_id":"plan-other"}'
expect_error 400 BadRequest "service_id other than the instance's"
req PATCH /v2/service_instances/u-1 '{"plan_id":"plan-sync"}'
expect_error 400 BadRequest "missing service_id"
req PATCH /v2/service_instances/u-1 '{"service_id":"svc-fake","parameters":"size=3"}'
expect_error 400 BadRequest "parameters not an object"
req PATCH /v2/service_instances/u-1 '{"service_id":"svc-fake","plan_id":"plan-sync","parameters":{"size":99}}'
expect_error 400 BadRequest "parameters against the target plan's update schema"
req GET /v2/service_instances/u-1
expect_jq '[.plan_id, .parameters.size] | join(",")' "plan-large,5" "refused updates changed nothing"

req PATCH /v2/service_instances/u-missing '{"service_id":"svc-fake","parameters":{"size":1}}'
expect_error 404 NotFound "update of an unknown instance (404, a choice the spec leaves open)"
expect_true "no tenant for the unknown instance" sh -c "! test -f '$WORK/data/fake-tenants/$(instance_tenant u-missing)'"

# plan_updateable false
req PUT /v2/service_instances/u-fixed "$(provision_body plan-fixed)"
expect_status 201 "provision a fixed plan"
req PATCH /v2/service_instances/u-fixed '{"service_id":"svc-fake","plan_id":"plan-large"}'
expect_error 422 - "plan change of a non-updateable plan is 422"
expect_jq '.update_repeatable' false "and not repeatable"
req PATCH /v2/service_instances/u-fixed '{"service_id":"svc-fake","parameters":{"x":1}}'
expect_status 200 "parameters of a non-updateable plan can still change"
req GET /v2/service_instances/u-fixed
expect_jq '.plan_id' plan-fixed "the fixed plan stayed"

# A failing update: 5xx/4xx with instance_usable and update_repeatable, nothing applied.
req PUT /v2/service_instances/u-2 "$(provision_body plan-sync '{"size":2}')"
req PATCH /v2/service_instances/u-2 '{"service_id":"svc-fake","parameters":{"size":7,"fail":"update:EBACKEND"}}'
expect_error 502 - "update failing on the server"
expect_jq '.instance_usable' true "instance_usable on an update error"
expect_jq '.update_repeatable' true "a server outage is repeatable"
req GET /v2/service_instances/u-2
expect_jq '.parameters.size' 2 "a failed update applied nothing"
expect_absent '.parameters.fail' "not even the parameters of the request"
req PATCH /v2/service_instances/u-2 '{"service_id":"svc-fake","plan_id":"plan-large","parameters":{"fail":"update:EBADREQUEST"}}'
expect_error 400 - "update refused by the server as a bad request"
expect_jq '.update_repeatable' false "a bad request is not repeatable"
req GET /v2/service_instances/u-2
expect_jq '.plan_id' plan-sync "the failed plan change applied nothing"
req PATCH /v2/service_instances/u-2 '{"service_id":"svc-fake","parameters":{"size":7}}'
expect_status 200 "the next update works"

# Async updates
req PUT "/v2/service_instances/u-a?accepts_incomplete=true" "$(provision_body plan-async '{"size":1}')"
poll_instance u-a
req PATCH /v2/service_instances/u-a '{"service_id":"svc-fake","parameters":{"size":2}}'
expect_error 422 AsyncRequired "async plan update without accepts_incomplete"
req PATCH "/v2/service_instances/u-a?accepts_incomplete=true" '{"service_id":"svc-fake","parameters":{"size":2,"delay_ms":4000}}'
expect_status 202 "async update"
OP=$(jqb .operation)
expect_jq '.operation | length > 0' true "with an operation"
req PATCH "/v2/service_instances/u-a?accepts_incomplete=true" '{"service_id":"svc-fake","parameters":{"size":2,"delay_ms":4000}}'
expect_status 202 "identical repeat of an update in progress answers 202"
expect_jq '.operation' "$OP" "with the same operation"
req PATCH "/v2/service_instances/u-a?accepts_incomplete=true" '{"service_id":"svc-fake","parameters":{"size":3}}'
expect_error 422 ConcurrencyError "another update while one runs"
req GET /v2/service_instances/u-a
expect_error 422 ConcurrencyError "fetch while updating"
req GET "/v2/service_instances/u-a/last_operation?operation=$OP&plan_id=plan-async"
expect_jq '.state' "in progress" "update in progress"
expect_true "the update finishes" poll_instance u-a "$OP"
expect_jq '.state' succeeded "update succeeded"
req GET /v2/service_instances/u-a
expect_jq '.parameters.size' 2 "async update applied"

req PATCH "/v2/service_instances/u-a?accepts_incomplete=true" '{"service_id":"svc-fake","parameters":{"size":9,"fail":"update:EUNSUPPORTED"}}'
expect_status 202 "async update that will fail"
OP=$(jqb .operation)
poll_instance u-a "$OP"
expect_jq '.state' failed "failed update"
expect_jq '.instance_usable' true "last_operation of a failed update says instance_usable"
expect_jq '.update_repeatable' false "and update_repeatable"
req GET /v2/service_instances/u-a
expect_jq '.parameters.size' 2 "a failed async update applied nothing"

# Sync plan to async plan: the update becomes asynchronous.
req PATCH /v2/service_instances/u-2 '{"service_id":"svc-fake","plan_id":"plan-async"}'
expect_error 422 AsyncRequired "a change to an async plan needs accepts_incomplete"
req PATCH "/v2/service_instances/u-2?accepts_incomplete=true" '{"service_id":"svc-fake","plan_id":"plan-async"}'
expect_status 202 "a change to an async plan answers 202"
poll_instance u-2 "$(jqb .operation)"
expect_jq '.state' succeeded "and succeeds"
finish
