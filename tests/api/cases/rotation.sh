#!/usr/bin/env bash
# Binding rotation and expiry: metadata format and order, predecessor_binding_id rules, inherited parameters,
# both bindings valid in parallel, expired predecessors refused.
. "$(dirname "$0")/../lib.sh"
start_broker

TS='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]+Z$'
ts_epoch() { date -u -d "$(printf '%s' "$1" | sed -E 's/\.[0-9]+Z$/Z/')" +%s; }

req PUT /v2/service_instances/r-1 "$(provision_body plan-rotate)"
now=$(date +%s)
req PUT /v2/service_instances/r-1/service_bindings/rb-1 '{"service_id":"svc-fake","plan_id":"plan-rotate","bind_resource":{"app_guid":"a"},"parameters":{"role":"x","n":1}}'
expect_status 201 "bind on a rotatable plan"
exp=$(jqb .metadata.expires_at)
ren=$(jqb .metadata.renew_before)
expect_true "expires_at is yyyy-mm-ddThh:mm:ss.sZ ($exp)" sh -c "printf '%s' '$exp' | grep -Eq '$TS'"
expect_true "renew_before is yyyy-mm-ddThh:mm:ss.sZ ($ren)" sh -c "printf '%s' '$ren' | grep -Eq '$TS'"
e=$(ts_epoch "$exp")
r=$(ts_epoch "$ren")
expect_true "renew_before <= expires_at" [ "$r" -le "$e" ]
expect_true "expires_at is credential_ttl (3600 s) away" [ $((e - now)) -ge 3590 -a $((e - now)) -le 3610 ]
expect_true "renew_before is 600 s before expires_at" [ $((e - r)) = 600 ]
PW1=$(jqb .credentials.password)
req GET /v2/service_instances/r-1/service_bindings/rb-1
expect_jq '.metadata.expires_at' "$exp" "fetch shows the same expires_at"
expect_jq '.metadata.renew_before' "$ren" "fetch shows the same renew_before"

# Rotate: the successor gets the predecessor's parameters, both stay valid.
req PUT /v2/service_instances/r-1/service_bindings/rb-2 '{"service_id":"svc-fake","plan_id":"plan-rotate","predecessor_binding_id":"rb-1"}'
expect_status 201 "rotate rb-1 into rb-2"
expect_true "new credentials" [ "$(jqb .credentials.password)" != "$PW1" ]
expect_jq '.metadata.expires_at | length > 0' true "the successor has its own expiry"
req PUT /v2/service_instances/r-1/service_bindings/rb-2 '{"service_id":"svc-fake","plan_id":"plan-rotate","predecessor_binding_id":"rb-1"}'
expect_status 200 "identical rotation repeated"
req GET /v2/service_instances/r-1/service_bindings/rb-2
expect_jq '.parameters | tojson' '{"role":"x","n":1}' "the successor has the predecessor's parameters"
req GET /v2/service_instances/r-1/service_bindings/rb-1
expect_status 200 "the predecessor is still valid"
expect_jq '.credentials.password' "$PW1" "with its credentials"
expect_true "both users exist on the server" sh -c "test -f '$WORK/data/fake-tenants/$(binding_tenant rb-1)' && test -f '$WORK/data/fake-tenants/$(binding_tenant rb-2)'"
req PUT /v2/service_instances/r-1/service_bindings/rb-3 '{"service_id":"svc-fake","plan_id":"plan-rotate","predecessor_binding_id":"rb-1","parameters":{"role":"y"}}'
expect_status 201 "a rotation may bring its own parameters"
req GET /v2/service_instances/r-1/service_bindings/rb-3
expect_jq '.parameters | tojson' '{"role":"y"}' "which win over the predecessor's"
req DELETE "/v2/service_instances/r-1/service_bindings/rb-1?service_id=svc-fake&plan_id=plan-rotate"
expect_status 200 "unbind the predecessor"
req GET /v2/service_instances/r-1/service_bindings/rb-2
expect_status 200 "the successor lives on"
req PUT /v2/service_instances/r-1/service_bindings/rb-4 '{"service_id":"svc-fake","plan_id":"plan-rotate","predecessor_binding_id":"rb-1"}'
expect_error 400 BadRequest "rotating an unbound binding"

# Bad predecessors
req PUT /v2/service_instances/r-2 "$(provision_body plan-rotate)"
req PUT /v2/service_instances/r-2/service_bindings/rb-x '{"service_id":"svc-fake","plan_id":"plan-rotate","predecessor_binding_id":"rb-2"}'
expect_error 400 BadRequest "predecessor of another instance"
req PUT /v2/service_instances/r-2/service_bindings/rb-x '{"service_id":"svc-fake","plan_id":"plan-rotate","predecessor_binding_id":"rb-unknown"}'
expect_error 400 BadRequest "unknown predecessor"
req PUT /v2/service_instances/r-2/service_bindings/rb-x '{"service_id":"svc-fake","plan_id":"plan-rotate","predecessor_binding_id":""}'
expect_error 400 BadRequest "empty predecessor"
req PUT /v2/service_instances/r-2/service_bindings/rb-x '{"service_id":"svc-fake","plan_id":"plan-rotate","predecessor_binding_id":42}'
expect_error 400 BadRequest "predecessor not a string"
req PUT /v2/service_instances/r-2/service_bindings/rb-x '{"service_id":"svc-fake","plan_id":"plan-rotate","predecessor_binding_id":"../rb-2"}'
expect_error 400 BadRequest "predecessor with a path in it"
req PUT /v2/service_instances/r-1/service_bindings/rb-x '{"service_id":"svc-fake","plan_id":"plan-rotate","predecessor_binding_id":"rb-x"}'
expect_error 400 BadRequest "a binding as its own predecessor"
req GET /v2/service_instances/r-2/service_bindings/rb-x
expect_status 404 "no binding from refused rotations"

# Non-rotatable plan
req PUT /v2/service_instances/r-3 "$(provision_body plan-sync)"
req PUT /v2/service_instances/r-3/service_bindings/rb-s "$(bind_body plan-sync)"
req PUT /v2/service_instances/r-3/service_bindings/rb-s2 '{"service_id":"svc-fake","plan_id":"plan-sync","predecessor_binding_id":"rb-s"}'
expect_error 400 BadRequest "rotation on a plan without binding_rotatable"

# Expiry: an expired predecessor cannot be rotated.
req PUT /v2/service_instances/r-4 "$(provision_body plan-expiring)"
req PUT /v2/service_instances/r-4/service_bindings/rb-e "$(bind_body plan-expiring)"
expect_status 201 "bind on a plan with 2 s credentials"
e=$(ts_epoch "$(jqb .metadata.expires_at)")
r=$(ts_epoch "$(jqb .metadata.renew_before)")
expect_true "renew_before <= expires_at on short credentials" [ "$r" -le "$e" ]
req PUT /v2/service_instances/r-4/service_bindings/rb-e2 '{"service_id":"svc-fake","plan_id":"plan-expiring","predecessor_binding_id":"rb-e"}'
expect_status 201 "rotation before expiry"
sleep 3
req PUT /v2/service_instances/r-4/service_bindings/rb-e3 '{"service_id":"svc-fake","plan_id":"plan-expiring","predecessor_binding_id":"rb-e"}'
expect_error 400 BadRequest "rotation of an expired predecessor"
finish
