#!/usr/bin/env bash
# GET of instances and bindings: 200 bodies, 404 unknown or still being created, 422 while updating,
# hints validated, no fetch across instances.
. "$(dirname "$0")/../lib.sh"
start_broker

req GET /v2/service_instances/f-none
expect_error 404 NotFound "fetch an unknown instance"
req GET /v2/service_instances/f-none/service_bindings/fb-none
expect_error 404 NotFound "fetch an unknown binding"

req PUT /v2/service_instances/f-1 '{"service_id":"svc-fake","plan_id":"plan-sync","organization_guid":"o","space_guid":"s","context":{"platform":"cloudfoundry"},"parameters":{"size":4,"label":"x"},"maintenance_info":{"version":"1.0.0"}}'
DASH=$(jqb .dashboard_url)
req GET /v2/service_instances/f-1
expect_status 200 "fetch an instance"
expect_jq '.service_id' svc-fake "service_id"
expect_jq '.plan_id' plan-sync "plan_id"
expect_jq '.dashboard_url' "$DASH" "dashboard_url as returned by the provision"
expect_jq '.parameters | tojson' '{"size":4,"label":"x"}' "parameters as given"
expect_jq '.maintenance_info.version' 1.0.0 "maintenance_info.version"
req GET "/v2/service_instances/f-1?service_id=svc-fake&plan_id=plan-sync"
expect_status 200 "fetch with hints"
req GET "/v2/service_instances/f-1?service_id="
expect_error 400 BadRequest "empty service_id hint"
req GET "/v2/service_instances/f-1?plan_id="
expect_error 400 BadRequest "empty plan_id hint"

req PUT /v2/service_instances/f-1/service_bindings/fb-1 "$(bind_body plan-sync '{"role":"writer"}')"
PW=$(jqb .credentials.password)
req GET /v2/service_instances/f-1/service_bindings/fb-1
expect_status 200 "fetch a binding"
expect_jq '.credentials.password' "$PW" "credentials"
expect_jq '.parameters.role' writer "parameters"
expect_jq '.endpoints[0].host' 127.0.0.1 "endpoints"
req GET "/v2/service_instances/f-1/service_bindings/fb-1?service_id=svc-fake&plan_id=plan-sync"
expect_status 200 "fetch a binding with hints"
req GET "/v2/service_instances/f-1/service_bindings/fb-1?plan_id="
expect_error 400 BadRequest "empty plan_id hint on a binding"
req PUT /v2/service_instances/f-2 "$(provision_body plan-sync)"
req GET /v2/service_instances/f-2/service_bindings/fb-1
expect_error 404 NotFound "a binding fetched through another instance is 404"

# 404 while provisioning, 422 while updating, 404 while binding
req PUT "/v2/service_instances/f-a?accepts_incomplete=true" "$(provision_body plan-async '{"delay_ms":3000}')"
req GET /v2/service_instances/f-a
expect_error 404 NotFound "fetch while provisioning is 404"
poll_instance f-a
req GET /v2/service_instances/f-a
expect_status 200 "fetch after provisioning"
req PATCH "/v2/service_instances/f-a?accepts_incomplete=true" '{"service_id":"svc-fake","parameters":{"delay_ms":3000}}'
OP=$(jqb .operation)
req GET /v2/service_instances/f-a
expect_error 422 ConcurrencyError "fetch while updating is 422 ConcurrencyError"
poll_instance f-a "$OP"
req GET /v2/service_instances/f-a
expect_status 200 "fetch after the update"
req PUT "/v2/service_instances/f-a/service_bindings/fb-a?accepts_incomplete=true" '{"service_id":"svc-fake","plan_id":"plan-async","parameters":{"delay_ms":3000}}'
req GET /v2/service_instances/f-a/service_bindings/fb-a
expect_error 404 NotFound "fetch a binding while binding is 404"
poll_binding f-a fb-a
req GET /v2/service_instances/f-a/service_bindings/fb-a
expect_status 200 "fetch the binding after binding"

# Sync provision in flight: 404 too
bg_req slow PUT /v2/service_instances/f-s "$(provision_body plan-sync '{"delay_ms":3000}')"
expect_true "the slow provision is recorded" wait_for 5 sh -c "curl -s -u $USER_NAME:$USER_PASS -H 'X-Broker-API-Version: 2.17' $BASE/v2/service_instances/f-s/last_operation | grep -q 'in progress'"
req GET /v2/service_instances/f-s
expect_error 404 NotFound "fetch while a sync provision runs is 404"
bg_wait slow
expect_status 201 "the slow provision ends with 201"
req GET /v2/service_instances/f-s
expect_status 200 "then fetch works"
finish
