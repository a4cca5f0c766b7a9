#!/usr/bin/env bash
# An asynchronous plan (x-osb.async) is asynchronous for every provision, update and deprovision: without
# accepts_incomplete=true each gets 422 AsyncRequired, with it 202 and an operation, even when nothing changes.
. "$(dirname "$0")/../lib.sh"
start_broker

req PUT "/v2/service_instances/a-1?accepts_incomplete=true" "$(provision_body plan-async '{"size":1}')"
expect_status 202 "async provision"
poll_instance a-1 "$(jqb .operation)"
expect_jq '.state' succeeded "provisioned"
req GET /v2/service_instances/a-1
INST=$BODY

# Without accepts_incomplete: 422 AsyncRequired, whatever the update.
for body in '{"service_id":"svc-fake","parameters":{"size":2}}' \
	'{"service_id":"svc-fake","parameters":{"size":1}}' \
	'{"service_id":"svc-fake","plan_id":"plan-async"}' \
	'{"service_id":"svc-fake","context":{"platform":"cloudfoundry","instance_name":"renamed"}}' \
	'{"service_id":"svc-fake"}'; do
	req PATCH /v2/service_instances/a-1 "$body"
	expect_error 422 AsyncRequired "update $body without accepts_incomplete"
	req PATCH "/v2/service_instances/a-1?accepts_incomplete=false" "$body"
	expect_error 422 AsyncRequired "update $body with accepts_incomplete=false"
done
req GET /v2/service_instances/a-1
expect_true "the refused updates changed nothing" [ "$BODY" = "$INST" ]

# With it: 202 and an operation, also for updates that change nothing on the server.
req PATCH "/v2/service_instances/a-1?accepts_incomplete=true" '{"service_id":"svc-fake","parameters":{"size":1}}'
expect_status 202 "an update with the same parameters: 202"
OP1=$(jqb .operation)
expect_jq '.operation | type == "string" and length > 0' true "with an operation"
req GET "/v2/service_instances/a-1/last_operation?operation=$OP1"
expect_jq '.state' succeeded "which has succeeded"
req PATCH "/v2/service_instances/a-1?accepts_incomplete=true" '{"service_id":"svc-fake","context":{"platform":"cloudfoundry","instance_name":"renamed"}}'
expect_status 202 "a context-only update: 202"
OP2=$(jqb .operation)
expect_true "with another operation" [ -n "$OP2" -a "$OP2" != "$OP1" ]
req GET /v2/service_instances/a-1/last_operation
expect_jq '.state' succeeded "the latest operation has succeeded"
req PATCH "/v2/service_instances/a-1?accepts_incomplete=true" '{"service_id":"svc-fake"}'
expect_status 202 "an empty update: 202"
req PATCH "/v2/service_instances/a-1?accepts_incomplete=true" '{"service_id":"svc-fake","parameters":{"size":3}}'
expect_status 202 "a real update: 202"
poll_instance a-1 "$(jqb .operation)"
expect_jq '.state' succeeded "and it succeeds"
req GET /v2/service_instances/a-1
expect_jq '.parameters.size' 3 "applied"

# While an asynchronous update runs, a request without accepts_incomplete is still told AsyncRequired.
req PATCH "/v2/service_instances/a-1?accepts_incomplete=true" '{"service_id":"svc-fake","parameters":{"size":4,"delay_ms":2000}}'
OPS=$(jqb .operation)
req PATCH /v2/service_instances/a-1 '{"service_id":"svc-fake","parameters":{"size":4,"delay_ms":2000}}'
expect_error 422 AsyncRequired "a re-sent update without accepts_incomplete"
req DELETE "/v2/service_instances/a-1?service_id=svc-fake&plan_id=plan-async"
expect_error 422 AsyncRequired "a deprovision without accepts_incomplete during an update"
poll_instance a-1 "$OPS"

# Deprovision and provision: AsyncRequired without, 202 with.
req DELETE "/v2/service_instances/a-1?service_id=svc-fake&plan_id=plan-async&accepts_incomplete=false"
expect_error 422 AsyncRequired "deprovision with accepts_incomplete=false"
req PUT /v2/service_instances/a-1 "$(provision_body plan-async '{"size":1}')"
expect_error 422 AsyncRequired "an identical provision without accepts_incomplete"
req DELETE "/v2/service_instances/a-1?service_id=svc-fake&plan_id=plan-async&accepts_incomplete=true"
expect_status 202 "deprovision: 202"
poll_instance a-1 "$(jqb .operation)"
expect_true "and the tenant is gone" sh -c "! test -f '$WORK/data/fake-tenants/$(instance_tenant a-1)'"

# A synchronous plan keeps answering 200 to updates that change nothing.
req PUT /v2/service_instances/s-1 "$(provision_body plan-sync '{"size":1}')"
req PATCH "/v2/service_instances/s-1?accepts_incomplete=true" '{"service_id":"svc-fake","parameters":{"size":1}}'
expect_status 200 "a sync plan's no-op update is 200"
finish
