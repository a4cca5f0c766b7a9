#!/usr/bin/env bash
# Every failure the driver can report maps to the right HTTP status and a JSON body with error and description,
# for each operation; failed creations leave nothing behind (even when the server had already made the
# tenant), failed updates change nothing, failed deletions keep the resource.
. "$(dirname "$0")/../lib.sh"
start_broker

declare -A WANT=([ERROR]=500 [ENOMEM]=500 [EBACKEND]=502 [ETIMEOUT]=504 [EBADREQUEST]=400 [ECONFLICT]=409
	[EUNPROCESSABLE]=422 [EUNSUPPORTED]=422 [ENOSUCHCODE]=500)
camel='^[A-Z][A-Za-z]+$'
check_body() { # what: a JSON error body with a CamelCase error and a description
	if printf '%s' "$BODY" | jq -e --arg re "$camel" '(.error|type=="string" and test($re)) and (.description|type=="string" and length>0)' >/dev/null 2>&1; then
		pass "$1: JSON body with a CamelCase error and a description"
	else
		fail "$1: want a JSON body with a CamelCase error and a description"
	fi
}

req PUT /v2/service_instances/e-u "$(provision_body plan-sync '{"size":2}')"
req PUT /v2/service_instances/e-u/service_bindings/e-keep "$(bind_body plan-sync)"
for code in "${!WANT[@]}"; do
	st=${WANT[$code]}
	lc=$(printf '%s' "$code" | tr 'A-Z' 'a-z')
	# provision, failing before and after the tenant exists
	for late in false true; do
		id="e-p-$lc-$late"
		req PUT "/v2/service_instances/$id" "$(provision_body plan-sync "{\"fail\":\"provision:$code\",\"fail_late\":$late}")"
		expect_status "$st" "provision $code (late $late)"
		check_body "provision $code (late $late)"
		expect_absent '.instance_usable' "provision $code: no instance_usable"
		expect_absent '.update_repeatable' "provision $code: no update_repeatable"
		expect_true "provision $code (late $late): no tenant left" sh -c "! test -f '$WORK/data/fake-tenants/$(instance_tenant "$id")'"
		req GET "/v2/service_instances/$id"
		expect_status 404 "provision $code (late $late): no instance"
		req GET "/v2/service_instances/$id/last_operation"
		expect_jq '.state' failed "provision $code (late $late): last_operation says failed"
		req PUT "/v2/service_instances/$id" "$(provision_body plan-sync)"
		expect_status 201 "provision $code (late $late): the id can be provisioned again"
	done
	# update
	req PATCH /v2/service_instances/e-u "{\"service_id\":\"svc-fake\",\"plan_id\":\"plan-large\",\"parameters\":{\"size\":9,\"fail\":\"update:$code\"}}"
	expect_status "$st" "update $code"
	check_body "update $code"
	expect_jq '.instance_usable' true "update $code: instance_usable"
	expect_jq '.update_repeatable | type' boolean "update $code: update_repeatable"
	req GET /v2/service_instances/e-u
	expect_jq '[.plan_id, .parameters.size] | join(",")' "plan-sync,2" "update $code: nothing applied"
	# bind, failing before and after the user exists
	for late in false true; do
		bid="e-b-$lc-$late"
		req PUT "/v2/service_instances/e-u/service_bindings/$bid" "$(bind_body plan-sync "{\"fail\":\"bind:$code\",\"fail_late\":$late}")"
		expect_status "$st" "bind $code (late $late)"
		check_body "bind $code (late $late)"
		expect_absent '.instance_usable' "bind $code: no instance_usable"
		expect_absent '.update_repeatable' "bind $code: no update_repeatable"
		expect_true "bind $code (late $late): no user left" sh -c "! test -f '$WORK/data/fake-tenants/$(binding_tenant "$bid")'"
		req GET "/v2/service_instances/e-u/service_bindings/$bid"
		expect_status 404 "bind $code (late $late): no binding"
		req PUT "/v2/service_instances/e-u/service_bindings/$bid" "$(bind_body plan-sync)"
		expect_status 201 "bind $code (late $late): the id binds again"
	done
	# unbind
	bid="e-ub-$lc"
	req PUT "/v2/service_instances/e-u/service_bindings/$bid" "$(bind_body plan-sync "{\"fail\":\"unbind:$code\",\"fail_times\":1}")"
	req DELETE "/v2/service_instances/e-u/service_bindings/$bid?service_id=svc-fake&plan_id=plan-sync"
	expect_status "$st" "unbind $code"
	check_body "unbind $code"
	expect_absent '.instance_usable' "unbind $code: no instance_usable"
	req GET "/v2/service_instances/e-u/service_bindings/$bid"
	expect_status 200 "unbind $code: the binding stays"
	expect_true "unbind $code: its user stays" has_binding "$bid"
	# deprovision
	id="e-d-$lc"
	req PUT "/v2/service_instances/$id" "$(provision_body plan-sync "{\"fail\":\"deprovision:$code\",\"fail_times\":1}")"
	req DELETE "/v2/service_instances/$id?service_id=svc-fake&plan_id=plan-sync"
	expect_status "$st" "deprovision $code"
	check_body "deprovision $code"
	expect_absent '.update_repeatable' "deprovision $code: no update_repeatable"
	req GET "/v2/service_instances/$id"
	expect_status 200 "deprovision $code: the instance stays"
	expect_true "deprovision $code: its tenant stays" has_instance "$id"
done
# The failures counted per kind in the fake: unbind and deprovision succeed on the second call.
req DELETE "/v2/service_instances/e-u/service_bindings/e-ub-ebackend?service_id=svc-fake&plan_id=plan-sync"
expect_status 200 "a failed unbind can be repeated"
req DELETE "/v2/service_instances/e-d-ebackend?service_id=svc-fake&plan_id=plan-sync"
expect_status 200 "a failed deprovision can be repeated"
expect_live "the broker survived every failure"
finish
