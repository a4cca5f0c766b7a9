#!/usr/bin/env bash
# maintenance_info on provision and update: matching versions accepted, others 422 MaintenanceInfoConflict,
# a catalog upgrade refuses the old version and a maintenance update moves the instance to the new one.
. "$(dirname "$0")/../lib.sh"
start_broker

body() { # plan, maintenance_info JSON
	printf '{"service_id":"svc-fake","plan_id":"%s","organization_guid":"o","space_guid":"s","maintenance_info":%s}' "$1" "$2"
}
req PUT /v2/service_instances/m-1 "$(body plan-sync '{"version":"1.0.0"}')"
expect_status 201 "provision with the plan's maintenance_info"
req GET /v2/service_instances/m-1
expect_jq '.maintenance_info.version' 1.0.0 "fetch shows it"
req PUT /v2/service_instances/m-0 "$(provision_body plan-sync)"
req GET /v2/service_instances/m-0
expect_jq '.maintenance_info.version' 1.0.0 "an instance provisioned without it gets the plan's"

req PUT /v2/service_instances/m-2 "$(body plan-sync '{"version":"0.9.0"}')"
expect_error 422 MaintenanceInfoConflict "provision with another version"
req PUT /v2/service_instances/m-2 "$(body plan-sync '{"version":"1.0.0+build"}')"
expect_error 422 MaintenanceInfoConflict "provision with the version plus build metadata"
req PUT /v2/service_instances/m-2 "$(body plan-fixed '{"version":"1.0.0"}')"
expect_error 422 MaintenanceInfoConflict "provision with maintenance_info on a plan that has none"
req PUT /v2/service_instances/m-2 "$(body plan-sync '"1.0.0"')"
expect_error 400 BadRequest "maintenance_info not an object"
req PUT /v2/service_instances/m-2 "$(body plan-sync '{"description":"no version"}')"
expect_error 400 BadRequest "maintenance_info without version"
req PUT /v2/service_instances/m-2 "$(body plan-sync '{"version":1}')"
expect_error 400 BadRequest "maintenance_info.version not a string"
req GET /v2/service_instances/m-2
expect_status 404 "refused provisions created nothing"
expect_true "two tenants" [ "$(tenants)" = 2 ]

req PATCH /v2/service_instances/m-1 '{"service_id":"svc-fake","maintenance_info":{"version":"1.0.0"},"previous_values":{"maintenance_info":{"version":"1.0.0"}}}'
expect_status 200 "update with the current version"
req PATCH /v2/service_instances/m-1 '{"service_id":"svc-fake","parameters":{"size":3},"maintenance_info":{"version":"2.0.0"}}'
expect_error 422 MaintenanceInfoConflict "update with an unknown version"
req GET /v2/service_instances/m-1
expect_jq '.parameters.size' 1 "the refused update changed nothing (size keeps its default)"
req PATCH /v2/service_instances/m-1 '{"service_id":"svc-fake","plan_id":"plan-large","maintenance_info":{"version":"1.0.0"}}'
expect_status 200 "plan change with the target plan's version"
req PATCH /v2/service_instances/m-1 '{"service_id":"svc-fake","plan_id":"plan-fixed","maintenance_info":{"version":"1.0.0"}}'
expect_error 422 MaintenanceInfoConflict "plan change with a version the target plan does not have"
req GET /v2/service_instances/m-1
expect_jq '.plan_id' plan-large "still on plan-large"

# A new catalog version: old version refused, instances upgraded by a maintenance update.
jq '(.services[0].plans[] | select(.id=="plan-sync") | .maintenance_info) = {"version":"2.0.0","description":"second"}' \
	"$ROOT/tests/api/catalog.json" >"$WORK/catalog2.json"
stop_broker
sed -i "s|\"catalog\": \"[^\"]*\"|\"catalog\": \"$WORK/catalog2.json\"|" "$WORK/config.json"
start_broker
req GET /v2/catalog
expect_jq '.services[0].plans[] | select(.id=="plan-sync") | .maintenance_info.version' 2.0.0 "the catalog offers 2.0.0"
req PUT /v2/service_instances/m-3 "$(body plan-sync '{"version":"1.0.0"}')"
expect_error 422 MaintenanceInfoConflict "provision with the old version after the catalog changed"
req GET /v2/service_instances/m-0
expect_jq '.maintenance_info.version' 1.0.0 "the existing instance is still on 1.0.0"
req PATCH /v2/service_instances/m-0 '{"service_id":"svc-fake","maintenance_info":{"version":"1.0.0"}}'
expect_error 422 MaintenanceInfoConflict "update asking for the old version"
req PATCH /v2/service_instances/m-0 '{"service_id":"svc-fake","maintenance_info":{"version":"2.0.0"},"previous_values":{"maintenance_info":{"version":"1.0.0"}}}'
expect_status 200 "maintenance update to 2.0.0"
req GET /v2/service_instances/m-0
expect_jq '.maintenance_info.version' 2.0.0 "the instance is on 2.0.0"
req PUT /v2/service_instances/m-3 "$(body plan-sync '{"version":"2.0.0"}')"
expect_status 201 "provision with the new version"
finish
