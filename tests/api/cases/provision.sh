#!/usr/bin/env bash
# Synchronous provisioning: 201, 200 on identical repeats, 409 on different attributes, 400 on bad input,
# 422 AsyncRequired, vendor extension fields ignored, parameters validated against the plan's schema.
. "$(dirname "$0")/../lib.sh"
start_broker

req PUT /v2/service_instances/p-1 "$(provision_body plan-sync '{"size":2,"label":"a"}')"
expect_status 201 "provision"
expect_jq 'type' object "201 body is an object"
expect_jq '.dashboard_url | test("^https://dashboard.example.test/osb_[0-9a-f]{20}$")' true "dashboard_url identifies the instance"
expect_absent '.operation' "no operation for a synchronous provision"
expect_true "the tenant exists" has_instance p-1
DASH=$(jqb .dashboard_url)

req PUT /v2/service_instances/p-1 "$(provision_body plan-sync '{"label":"a","size":2}')"
expect_status 200 "identical repeat (members in another order)"
expect_jq '.dashboard_url' "$DASH" "the repeat returns the same dashboard_url"
req PUT "/v2/service_instances/p-1?accepts_incomplete=true" "$(provision_body plan-sync '{"size":2,"label":"a"}')"
expect_status 200 "identical repeat with accepts_incomplete=true"
expect_true "still one tenant" [ "$(tenants)" = 1 ]

req PUT /v2/service_instances/p-1 "$(provision_body plan-sync '{"size":3,"label":"a"}')"
expect_error 409 Conflict "same id, other parameters"
req PUT /v2/service_instances/p-1 "$(provision_body plan-sync '{"size":2}')"
expect_error 409 Conflict "same id, fewer parameters"
req PUT /v2/service_instances/p-1 "$(provision_body plan-large '{"size":2,"label":"a"}')"
expect_error 409 Conflict "same id, other plan"
req PUT /v2/service_instances/p-1 '{"service_id":"svc-fake","plan_id":"plan-sync","organization_guid":"org-2","space_guid":"space-1","parameters":{"size":2,"label":"a"}}'
expect_error 409 Conflict "same id, other organization"
req PUT /v2/service_instances/p-1 '{"service_id":"svc-fake","plan_id":"plan-sync","organization_guid":"org-1","space_guid":"space-2","parameters":{"size":2,"label":"a"}}'
expect_error 409 Conflict "same id, other space"
req PUT /v2/service_instances/p-1 "$(provision_body plan-other)"
expect_error 409 Conflict "same id, other service"
req GET /v2/service_instances/p-1
expect_jq '[.plan_id, .parameters.size, .parameters.label] | join(",")' "plan-sync,2,a" "409s changed nothing"

# accepts_incomplete is ignored by a synchronous plan
req PUT "/v2/service_instances/p-2?accepts_incomplete=true" "$(provision_body plan-sync)"
expect_status 201 "sync plan with accepts_incomplete=true answers 201"
req PUT "/v2/service_instances/p-3?accepts_incomplete=false" "$(provision_body plan-large)"
expect_status 201 "sync plan with accepts_incomplete=false answers 201"

# Defaults of the schema are applied and shown on fetch
req GET /v2/service_instances/p-2
expect_jq '.parameters.size' 1 "schema default applied"
req PUT /v2/service_instances/p-2 "$(provision_body plan-sync)"
expect_status 200 "identical repeat of a provision that relied on a default"

# AsyncRequired
req PUT /v2/service_instances/p-async "$(provision_body plan-async)"
expect_error 422 AsyncRequired "async-only plan without accepts_incomplete"
req PUT "/v2/service_instances/p-async?accepts_incomplete=false" "$(provision_body plan-async)"
expect_error 422 AsyncRequired "async-only plan with accepts_incomplete=false"
req GET /v2/service_instances/p-async
expect_status 404 "AsyncRequired left no instance"
req GET /v2/service_instances/p-async/last_operation
expect_status 404 "AsyncRequired left no operation"

# Vendor extension fields are ignored
req PUT /v2/service_instances/p-ext '{"service_id":"svc-fake","plan_id":"plan-sync","organization_guid":"o","space_guid":"s","x-acme-trace":{"deep":[1,2,{"a":null}]},"acme_flag":true,"context":{"platform":"cloudfoundry","organization_name":"org","x-acme":1},"maintenance_info":{"version":"1.0.0","description":"ignored","x-acme":"y"},"parameters":{"size":4}}'
expect_status 201 "unknown fields in the body, context and maintenance_info are ignored"
req PUT /v2/service_instances/p-ext '{"service_id":"svc-fake","plan_id":"plan-sync","organization_guid":"o","space_guid":"s","x-other":"z","parameters":{"size":4}}'
expect_status 200 "an identical repeat with other extension fields is still identical"
req PUT /v2/service_instances/p-ctx '{"service_id":"svc-fake","plan_id":"plan-sync","organization_guid":"o","space_guid":"s"}'
expect_status 201 "context and parameters are optional"

# Schema validation of parameters
before=$(tenants)
req PUT /v2/service_instances/p-bad "$(provision_body plan-sync '{"size":11}')"
expect_error 400 BadRequest "parameter above the schema maximum"
expect_jq '.description | test("size")' true "the description names the bad parameter"
req PUT /v2/service_instances/p-bad "$(provision_body plan-sync '{"size":"2"}')"
expect_error 400 BadRequest "parameter of the wrong type"
req PUT /v2/service_instances/p-bad "$(provision_body plan-sync '{"colour":"red"}')"
expect_error 400 BadRequest "parameter the schema does not allow"
req PUT /v2/service_instances/p-bad "$(provision_body plan-sync '{"label":"this label is far too long"}')"
expect_error 400 BadRequest "parameter over maxLength"
expect_true "invalid parameters created nothing" [ "$(tenants)" = "$before" ]
req GET /v2/service_instances/p-bad
expect_status 404 "no instance after invalid parameters"
req PUT /v2/service_instances/p-bad "$(provision_body plan-sync '{"size":10}')"
expect_status 201 "the same id can then be provisioned with valid parameters"

# Service and plan must match the catalog
req PUT /v2/service_instances/p-x '{"service_id":"svc-nope","plan_id":"plan-sync","organization_guid":"o","space_guid":"s"}'
expect_error 400 BadRequest "unknown service_id"
req PUT /v2/service_instances/p-x '{"service_id":"svc-fake","plan_id":"plan-nope","organization_guid":"o","space_guid":"s"}'
expect_error 400 BadRequest "unknown plan_id"
req PUT /v2/service_instances/p-x '{"service_id":"svc-fake","plan_id":"plan-other","organization_guid":"o","space_guid":"s"}'
expect_error 400 BadRequest "plan of another service"
req PUT /v2/service_instances/p-x '{"service_id":"svc-other","plan_id":"plan-sync","organization_guid":"o","space_guid":"s"}'
expect_error 400 BadRequest "plan of another service (the other way)"
for missing in service_id plan_id organization_guid space_guid; do
	req PUT /v2/service_instances/p-x "$(provision_body plan-sync | jq -c "del(.$missing)")"
	expect_error 400 BadRequest "missing $missing"
	req PUT /v2/service_instances/p-x "$(provision_body plan-sync | jq -c ".$missing = \"\"")"
	expect_error 400 BadRequest "empty $missing"
done
req GET /v2/service_instances/p-x
expect_status 404 "no instance from refused requests"

# Another service's plan
req PUT /v2/service_instances/p-other "$(provision_body plan-other)"
expect_status 201 "provision a plan of the second service"
req GET /v2/service_instances/p-other
expect_jq '.service_id' svc-other "fetch shows the second service"

# A 201 is returned only once; a deprovisioned id can be provisioned again (the spec discourages reuse, the broker allows it)
req DELETE "/v2/service_instances/p-3?service_id=svc-fake&plan_id=plan-large"
expect_status 200 "deprovision p-3"
req PUT /v2/service_instances/p-3 "$(provision_body plan-large)"
expect_status 201 "re-provision a deprovisioned id"
expect_true "tenants match the live instances" [ "$(tenants)" = 7 ]
finish
