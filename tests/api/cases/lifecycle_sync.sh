#!/usr/bin/env bash
# A synchronous plan end to end: provision, fetch, bind, fetch, unbind, deprovision, and the repeats.
. "$(dirname "$0")/../lib.sh"
start_broker

req PUT /v2/service_instances/i-1 "$(provision_body plan-sync '{"size":3}')"
expect_status 201 "provision"
expect_jq '.dashboard_url | startswith("https://dashboard.example.test/")' true "dashboard_url returned"
expect_true "a tenant exists on the server" [ "$(tenants)" = 1 ]

req PUT /v2/service_instances/i-1 "$(provision_body plan-sync '{"size":3}')"
expect_status 200 "identical provision repeated"

req PUT /v2/service_instances/i-1 "$(provision_body plan-sync '{"size":4}')"
expect_error 409 Conflict "same id, different parameters"

req GET /v2/service_instances/i-1
expect_status 200 "fetch instance"
expect_jq '.plan_id' plan-sync "fetched plan_id"
expect_jq '.parameters.size' 3 "fetched parameters"
expect_jq '.maintenance_info.version' 1.0.0 "fetched maintenance_info"

req GET /v2/service_instances/i-1/last_operation
expect_status 200 "last_operation of a synchronous provision"
expect_jq '.state' succeeded "it succeeded"

req PUT /v2/service_instances/i-1/service_bindings/b-1 "$(bind_body plan-sync '{"role":"reader"}')"
expect_status 201 "bind"
expect_jq '.credentials.username | startswith("osb_")' true "credentials returned"
PW=$(printf '%s' "$BODY" | jq -r .credentials.password)
expect_jq '.endpoints[0].ports[0]' 1 "endpoints returned"

req PUT /v2/service_instances/i-1/service_bindings/b-1 "$(bind_body plan-sync '{"role":"reader"}')"
expect_status 200 "identical bind repeated"
expect_jq '.credentials.password' "$PW" "same credentials on the repeat"

req PUT /v2/service_instances/i-1/service_bindings/b-1 "$(bind_body plan-sync '{"role":"writer"}')"
expect_error 409 Conflict "same binding id, different parameters"

req GET /v2/service_instances/i-1/service_bindings/b-1
expect_status 200 "fetch binding"
expect_jq '.credentials.password' "$PW" "fetched credentials"
expect_jq '.parameters.role' reader "fetched binding parameters"

req DELETE "/v2/service_instances/i-1/service_bindings/b-1?service_id=svc-fake&plan_id=plan-sync"
expect_status 200 "unbind"
expect_jq '. == {}' true "unbind body is {}"
req DELETE "/v2/service_instances/i-1/service_bindings/b-1?service_id=svc-fake&plan_id=plan-sync"
expect_status 410 "unbind again is Gone"
req GET /v2/service_instances/i-1/service_bindings/b-1
expect_status 404 "fetch an unbound binding"

req DELETE "/v2/service_instances/i-1?service_id=svc-fake&plan_id=plan-sync"
expect_status 200 "deprovision"
expect_true "no tenant left on the server" [ "$(tenants)" = 0 ]
req DELETE "/v2/service_instances/i-1?service_id=svc-fake&plan_id=plan-sync"
expect_status 410 "deprovision again is Gone"
req GET /v2/service_instances/i-1
expect_status 404 "fetch a deprovisioned instance"
finish
