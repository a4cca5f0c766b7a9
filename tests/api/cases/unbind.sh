#!/usr/bin/env bash
# DELETE .../service_bindings/:bid: 200 {}, 410 for unknown, 400 for missing or wrong hints, failures keep the
# binding, the user is removed on the server, other bindings keep working.
. "$(dirname "$0")/../lib.sh"
start_broker

req PUT /v2/service_instances/i-1 "$(provision_body plan-sync)"
req PUT /v2/service_instances/i-1/service_bindings/b-1 "$(bind_body plan-sync)"
req PUT /v2/service_instances/i-1/service_bindings/b-2 "$(bind_body plan-sync)"
U=/v2/service_instances/i-1/service_bindings/b-1

req DELETE "$U"
expect_error 400 BadRequest "missing service_id and plan_id"
req DELETE "$U?service_id=svc-fake"
expect_error 400 BadRequest "missing plan_id"
req DELETE "$U?plan_id=plan-sync"
expect_error 400 BadRequest "missing service_id"
req DELETE "$U?service_id=svc-fake&plan_id="
expect_error 400 BadRequest "empty plan_id"
req DELETE "$U?service_id=svc-fake&plan_id=plan-large"
expect_error 400 BadRequest "plan_id not the binding's"
req DELETE "$U?service_id=svc-fake&plan_id=plan-sync&accepts_incomplete=yes"
expect_error 400 BadRequest "accepts_incomplete=yes"
req GET "$U"
expect_status 200 "refused unbinds kept the binding"

req DELETE "/v2/service_instances/i-other/service_bindings/b-1?service_id=svc-fake&plan_id=plan-sync"
expect_status 410 "unbind through another instance id is 410"
req GET "$U"
expect_status 200 "and kept the binding"

req DELETE "$U?service_id=svc-fake&plan_id=plan-sync&accepts_incomplete=true"
expect_status 200 "unbind (sync plan, accepts_incomplete ignored)"
expect_jq '. == {}' true "body is {}"
expect_true "the user is gone" sh -c "! test -f '$WORK/data/fake-tenants/$(binding_tenant b-1)'"
expect_true "the other binding's user stays" has_binding b-2
req GET /v2/service_instances/i-1/service_bindings/b-2
expect_status 200 "the other binding stays"
req DELETE "$U?service_id=svc-fake&plan_id=plan-sync"
expect_status 410 "again is 410"
expect_jq '. == {}' true "410 body is {}"
req DELETE "/v2/service_instances/i-1/service_bindings/never?service_id=svc-fake&plan_id=plan-sync"
expect_status 410 "unknown binding is 410"
req DELETE "/v2/service_instances/i-nope/service_bindings/never?service_id=svc-fake&plan_id=plan-sync"
expect_status 410 "unknown instance and binding is 410"
req GET "$U/last_operation"
expect_status 410 "binding last_operation after a sync unbind is 410 (a choice: it is gone)"

# A failing unbind keeps the binding and its user.
req PUT /v2/service_instances/i-1/service_bindings/b-3 "$(bind_body plan-sync '{"fail":"unbind:ETIMEOUT"}')"
expect_status 201 "bind whose unbind will fail"
req DELETE "/v2/service_instances/i-1/service_bindings/b-3?service_id=svc-fake&plan_id=plan-sync"
expect_error 504 - "unbind timing out on the server"
expect_absent '.instance_usable' "no instance_usable on an unbind error"
req GET /v2/service_instances/i-1/service_bindings/b-3
expect_status 200 "the binding is still there"
expect_true "with its user" has_binding b-3

# Re-binding an unbound id works (new credentials).
req PUT "$U" "$(bind_body plan-sync)"
expect_status 201 "re-bind an unbound id"
finish
