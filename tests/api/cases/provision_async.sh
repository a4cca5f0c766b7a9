#!/usr/bin/env bash
# Asynchronous provisioning: 202 with an operation, repeats, polling, fetch while provisioning, failures, retries.
. "$(dirname "$0")/../lib.sh"
start_broker

req PUT "/v2/service_instances/a-1?accepts_incomplete=true" "$(provision_body plan-async '{"delay_ms":4000}')"
expect_status 202 "async provision"
OP=$(jqb .operation)
expect_jq '.operation | type == "string" and length > 0 and length <= 10000' true "202 carries an operation of at most 10,000 characters"
# The spec: a broker that returns a dashboard_url MUST return it with the initial response, even when asynchronous.
# This driver gives every instance one (the fetch below shows it), so the 202 must carry it.
expect_jq '.dashboard_url | type' string "202 carries the dashboard_url the instance will have"

req PUT "/v2/service_instances/a-1?accepts_incomplete=true" "$(provision_body plan-async '{"delay_ms":4000}')"
expect_status 202 "identical repeat while in progress answers 202, not 200"
expect_jq '.operation' "$OP" "with the same operation"
req PUT "/v2/service_instances/a-1?accepts_incomplete=true" "$(provision_body plan-async '{"delay_ms":4001}')"
expect_error 409 Conflict "different attributes while in progress"
req PUT "/v2/service_instances/a-1" "$(provision_body plan-async '{"delay_ms":4000}')"
expect_error 422 AsyncRequired "the repeat without accepts_incomplete"

req GET /v2/service_instances/a-1
expect_error 404 NotFound "fetch while provisioning is 404"
req GET /v2/service_instances/a-1/last_operation
expect_status 200 "last_operation while provisioning"
expect_jq '.state' "in progress" "state in progress"
expect_header Retry-After '[0-9]+' "Retry-After while in progress"
req GET "/v2/service_instances/a-1/last_operation?operation=$OP&service_id=svc-fake&plan_id=plan-async"
expect_jq '.state' "in progress" "last_operation with operation and hints"

expect_true "the provision finishes" poll_instance a-1 "$OP"
expect_jq '.state' succeeded "it succeeded"
expect_no_header Retry-After "no Retry-After once finished"
expect_absent '.instance_usable' "no instance_usable on a provision"
expect_absent '.update_repeatable' "no update_repeatable on a provision"
expect_true "the tenant exists" has_instance a-1
req GET /v2/service_instances/a-1
expect_status 200 "fetch right after succeeded"
expect_jq '.dashboard_url | startswith("https://dashboard.example.test/")' true "fetch shows the dashboard_url"
expect_jq '.parameters.delay_ms' 4000 "fetch shows the parameters"
req PUT "/v2/service_instances/a-1?accepts_incomplete=true" "$(provision_body plan-async '{"delay_ms":4000}')"
expect_status 200 "identical repeat after completion answers 200"
req GET "/v2/service_instances/a-1/last_operation?operation=$OP"
expect_jq '.state' succeeded "the finished state is remembered"

# A failing async provision: last_operation says failed, nothing is left, the id can be used again.
req PUT "/v2/service_instances/a-2?accepts_incomplete=true" "$(provision_body plan-async '{"fail":"provision:EBADREQUEST"}')"
expect_status 202 "async provision that will fail"
OP2=$(jqb .operation)
expect_true "it finishes" poll_instance a-2 "$OP2"
expect_jq '.state' failed "state failed"
expect_jq '.description | length > 0' true "failed state has a description"
expect_absent '.instance_usable' "no instance_usable on a failed provision"
expect_absent '.update_repeatable' "no update_repeatable on a failed provision"
expect_true "no tenant left" sh -c "! test -f '$WORK/data/fake-tenants/$(instance_tenant a-2)'"
req GET /v2/service_instances/a-2
expect_status 404 "fetch of a failed provision is 404"
req PUT "/v2/service_instances/a-2?accepts_incomplete=true" "$(provision_body plan-async)"
expect_status 202 "the id can be provisioned again"
OP3=$(jqb .operation)
expect_true "different operation" [ "$OP3" != "$OP2" ]
expect_true "it finishes" poll_instance a-2 "$OP3"
expect_jq '.state' succeeded "second attempt succeeded"

# Transient server errors are retried within the polling duration.
req PUT "/v2/service_instances/a-3?accepts_incomplete=true" "$(provision_body plan-async '{"fail":"provision:EBACKEND","fail_times":2}')"
expect_status 202 "async provision with two transient failures"
OP4=$(jqb .operation)
sleep 0.5
req GET "/v2/service_instances/a-3/last_operation?operation=$OP4"
expect_jq '.state' "in progress" "still in progress while retrying"
expect_jq '.description | test("Waiting")' true "the description tells it waits for the server"
expect_true "it finishes" poll_instance a-3 "$OP4"
expect_jq '.state' succeeded "succeeded after the retries"

# Sync plans answer 201 even with accepts_incomplete=true; async plans never 201.
req PUT "/v2/service_instances/a-4?accepts_incomplete=true" "$(provision_body plan-async)"
expect_status 202 "async plan answers 202 even when fast"
expect_true "it finishes" poll_instance a-4
expect_true "four async instances exist" [ "$(tenants)" = 4 ]
finish
