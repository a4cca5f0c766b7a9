#!/usr/bin/env bash
# PUT /v2/service_instances/:id/service_bindings/:bid: 201 with credentials and endpoints, 200 identical repeat,
# 409 different, RequiresApp, non-bindable plans, schema checks, unknown instance, unique credentials.
. "$(dirname "$0")/../lib.sh"
start_broker

req PUT /v2/service_instances/i-1 "$(provision_body plan-sync)"
req PUT /v2/service_instances/i-1/service_bindings/b-1 "$(bind_body plan-sync '{"role":"reader"}')"
expect_status 201 "bind"
expect_jq '.credentials | type' object "credentials returned"
expect_jq '.credentials.username' "$(binding_tenant b-1)" "the username is the binding's server-side name"
expect_jq '.endpoints | length > 0 and all(.host|type=="string") and all(.ports|type=="array" and length>0 and all(type=="string"))' true \
	"endpoints have a host and a non-empty array of port strings"
expect_absent '.operation' "no operation for a sync bind"
expect_absent '.metadata' "no expiry metadata for a plan without credential_ttl"
expect_absent '.syslog_drain_url' "no syslog_drain_url without requires syslog_drain"
expect_absent '.route_service_url' "no route_service_url without requires route_forwarding"
expect_absent '.volume_mounts' "no volume_mounts without requires volume_mount"
expect_true "the binding's user exists on the server" has_binding b-1
PW1=$(jqb .credentials.password)

req PUT /v2/service_instances/i-1/service_bindings/b-1 "$(bind_body plan-sync '{"role":"reader"}' '"x-acme":1')"
expect_status 200 "identical repeat (with an extension field)"
expect_jq '.credentials.password' "$PW1" "the repeat returns the same credentials"
req PUT "/v2/service_instances/i-1/service_bindings/b-1?accepts_incomplete=true" "$(bind_body plan-sync '{"role":"reader"}')"
expect_status 200 "identical repeat with accepts_incomplete=true on a sync plan"
req PUT /v2/service_instances/i-1/service_bindings/b-1 "$(bind_body plan-sync '{"role":"writer"}')"
expect_error 409 Conflict "different parameters"
req PUT /v2/service_instances/i-1/service_bindings/b-1 '{"service_id":"svc-fake","plan_id":"plan-sync","bind_resource":{"app_guid":"app-2"},"parameters":{"role":"reader"}}'
expect_error 409 Conflict "different app_guid"

req PUT /v2/service_instances/i-1/service_bindings/b-2 "$(bind_body plan-sync '{"role":"reader"}')"
expect_status 201 "a second binding"
expect_true "credentials are unique per binding" [ "$(jqb .credentials.password)" != "$PW1" ]
expect_true "usernames are unique per binding" [ "$(jqb .credentials.username)" != "$(binding_tenant b-1)" ]

req PUT /v2/service_instances/i-2 "$(provision_body plan-sync)"
req PUT /v2/service_instances/i-2/service_bindings/b-1 "$(bind_body plan-sync '{"role":"reader"}')"
expect_error 409 Conflict "a binding id already used by another instance"

# Body checks
before=$(tenants)
req PUT /v2/service_instances/i-1/service_bindings/b-x "$(bind_body plan-sync '{"role":"admin"}')"
expect_error 400 BadRequest "parameter not in the schema's enum"
req PUT /v2/service_instances/i-1/service_bindings/b-x "$(bind_body plan-sync '{"other":1}')"
expect_error 400 BadRequest "parameter the schema does not allow"
req PUT /v2/service_instances/i-1/service_bindings/b-x '{"plan_id":"plan-sync"}'
expect_error 400 BadRequest "missing service_id"
req PUT /v2/service_instances/i-1/service_bindings/b-x '{"service_id":"svc-fake"}'
expect_error 400 BadRequest "missing plan_id"
req PUT /v2/service_instances/i-1/service_bindings/b-x "$(bind_body plan-large)"
expect_error 400 BadRequest "plan_id not the instance's"
req PUT /v2/service_instances/i-1/service_bindings/b-x '{"service_id":"svc-other","plan_id":"plan-other"}'
expect_error 400 BadRequest "service and plan of another instance"
req PUT /v2/service_instances/i-1/service_bindings/b-x '{"service_id":"svc-fake","plan_id":"plan-sync","app_guid":""}'
expect_error 400 BadRequest "empty app_guid"
req PUT /v2/service_instances/i-1/service_bindings/b-x '{"service_id":"svc-fake","plan_id":"plan-sync","bind_resource":"app-1"}'
expect_error 400 BadRequest "bind_resource not an object"
expect_true "refused binds created nothing" [ "$(tenants)" = "$before" ]
req GET /v2/service_instances/i-1/service_bindings/b-x
expect_status 404 "no binding from refused requests"

# Unknown instance
req PUT /v2/service_instances/i-nope/service_bindings/b-y "$(bind_body plan-sync)"
expect_error 404 NotFound "bind to an unknown instance (404, a choice the spec leaves open)"

# Non-bindable plan
req PUT /v2/service_instances/i-nb "$(provision_body plan-nobind)"
req PUT /v2/service_instances/i-nb/service_bindings/b-nb '{"service_id":"svc-fake","plan_id":"plan-nobind"}'
expect_error 400 BadRequest "bind of a non-bindable plan"

# RequiresApp
req PUT /v2/service_instances/i-app "$(provision_body plan-app)"
req PUT /v2/service_instances/i-app/service_bindings/b-app '{"service_id":"svc-fake","plan_id":"plan-app"}'
expect_error 422 RequiresApp "no app_guid where the plan requires one"
req PUT /v2/service_instances/i-app/service_bindings/b-app '{"service_id":"svc-fake","plan_id":"plan-app","bind_resource":{"route":"r.example.com"}}'
expect_error 422 RequiresApp "a route but no app_guid"
req GET /v2/service_instances/i-app/service_bindings/b-app
expect_status 404 "RequiresApp created nothing"
req PUT /v2/service_instances/i-app/service_bindings/b-app '{"service_id":"svc-fake","plan_id":"plan-app","bind_resource":{"app_guid":"app-9"}}'
expect_status 201 "bind_resource.app_guid satisfies it"
req PUT /v2/service_instances/i-app/service_bindings/b-app2 '{"service_id":"svc-fake","plan_id":"plan-app","app_guid":"app-9"}'
expect_status 201 "the deprecated top-level app_guid satisfies it"
req PUT /v2/service_instances/i-1/service_bindings/b-noapp '{"service_id":"svc-fake","plan_id":"plan-sync"}'
expect_status 201 "plans without requires_app bind without an app"

# Binding a plan of the second service, with a context
req PUT /v2/service_instances/i-o "$(provision_body plan-other)"
req PUT /v2/service_instances/i-o/service_bindings/b-o '{"service_id":"svc-other","plan_id":"plan-other","context":{"platform":"kubernetes","namespace":"ns"}}'
expect_status 201 "bind a plan of the second service"

# Failing binds leave nothing and the id stays usable.
req PUT /v2/service_instances/i-1/service_bindings/b-f "$(bind_body plan-sync '{"fail":"bind:EBACKEND"}')"
expect_error 502 - "bind failing on the server"
expect_absent '.instance_usable' "no instance_usable on a bind error"
expect_absent '.update_repeatable' "no update_repeatable on a bind error"
expect_true "no user left for the failed bind" sh -c "! test -f '$WORK/data/fake-tenants/$(binding_tenant b-f)'"
req GET /v2/service_instances/i-1/service_bindings/b-f
expect_status 404 "no binding after a failed bind"
req PUT /v2/service_instances/i-1/service_bindings/b-f "$(bind_body plan-sync '{"role":"writer"}')"
expect_status 201 "the id binds after a failure"
finish
