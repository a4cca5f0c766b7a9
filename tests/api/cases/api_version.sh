#!/usr/bin/env bash
# X-Broker-API-Version: 2.13 to 2.17 accepted, missing or anything else refused with 412 and a JSON body.
. "$(dirname "$0")/../lib.sh"
start_broker

for v in 2.13 2.14 2.15 2.16 2.17; do
	API_VERSION=$v req GET /v2/catalog
	expect_status 200 "catalog with API version $v"
	API_VERSION=$v req PUT "/v2/service_instances/i-v$v" "$(provision_body plan-sync)"
	expect_status 201 "provision with API version $v"
done
NOVERSION=1 req GET /v2/catalog
expect_error 412 PreconditionFailed "catalog without the version header"
expect_jq '.description | test("2\\.1[37]")' true "the description names the supported versions"
NOVERSION=1 req PUT /v2/service_instances/i-nov "$(provision_body plan-sync)"
expect_error 412 PreconditionFailed "provision without the version header"
for v in 2.12 2.0 1.0 3.0 3.17 2.18 2.99 "" "2" "2." ".17" "2.17.0" "+2.17" "2.-1" "two" "2,17" "2.017x" "02.17x" "999999999.17"; do
	API_VERSION=$v req GET /v2/catalog
	expect_error 412 PreconditionFailed "catalog with API version '$v'"
done
# Leading white space is not part of an HTTP field value (RFC 7230 3.2.4).
API_VERSION=" 2.17" req GET /v2/catalog
expect_status 200 "a version header with leading white space"
API_VERSION=2.12 req PUT /v2/service_instances/i-old "$(provision_body plan-sync)"
expect_error 412 PreconditionFailed "provision with 2.12"
API_VERSION=3.0 req DELETE "/v2/service_instances/i-v2.17?service_id=svc-fake&plan_id=plan-sync"
expect_error 412 PreconditionFailed "deprovision with 3.0"
API_VERSION=3.0 req GET /v2/service_instances/i-v2.17/last_operation
expect_error 412 PreconditionFailed "last_operation with 3.0"
API_VERSION=2.12 req PUT /v2/service_instances/i-v2.17/service_bindings/b-1 "$(bind_body plan-sync)"
expect_error 412 PreconditionFailed "bind with 2.12"
expect_true "refused requests changed nothing" [ "$(tenants)" = 5 ]
req GET /v2/service_instances/i-old
expect_status 404 "no instance from a refused version"
req GET /v2/service_instances/i-v2.17
expect_status 200 "the 2.17 instance is still there"
req GET /v2/service_instances/i-v2.17/service_bindings/b-1
expect_status 404 "no binding from a refused version"
NOVERSION=1 req GET /health/live
expect_status 200 "health needs no version"
finish
