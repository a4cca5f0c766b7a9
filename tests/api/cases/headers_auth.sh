#!/usr/bin/env bash
# Authentication (401 with JSON), request identity echo, originating identity accepted or refused, content type.
. "$(dirname "$0")/../lib.sh"
start_broker

# --- Basic authentication on every OSB route
for path in /v2/catalog /v2/service_instances/i-auth /v2/service_instances/i-auth/last_operation \
	/v2/service_instances/i-auth/service_bindings/b-auth /v2/service_instances/i-auth/service_bindings/b-auth/last_operation; do
	NOAUTH=1 req GET "$path"
	expect_error 401 Unauthorized "no credentials on GET $path"
	expect_header WWW-Authenticate 'Basic' "401 on $path carries WWW-Authenticate"
	expect_header Content-Type 'application/json' "401 on $path is JSON"
done
NOAUTH=1 req PUT /v2/service_instances/i-auth "$(provision_body plan-sync)"
expect_error 401 Unauthorized "no credentials on provision"
NOAUTH=1 req PUT /v2/service_instances/i-auth "$(provision_body plan-sync)" -u broker:wrong-password
expect_error 401 Unauthorized "wrong password"
NOAUTH=1 req GET /v2/catalog "" -u nobody:broker-test-password
expect_error 401 Unauthorized "unknown user"
NOAUTH=1 req GET /v2/catalog "" -u "$USER_NAME:"
expect_error 401 Unauthorized "empty password"
NOAUTH=1 req GET /v2/catalog "" -H 'Authorization: Bearer abc.def.ghi'
expect_error 401 Unauthorized "a non-Basic scheme"
NOAUTH=1 req GET /v2/catalog "" -H 'Authorization: Basic !!!notbase64!!!'
expect_error 401 Unauthorized "Basic with broken base64"
NOAUTH=1 req GET /v2/catalog "" -H "Authorization: Basic $(printf 'no-colon-here' | base64)"
expect_error 401 Unauthorized "Basic without a colon"
NOAUTH=1 req GET /v2/catalog "" -H "Authorization: Basic $(printf 'broker:broker-test-password\0x' | base64)"
expect_error 401 Unauthorized "Basic with a NUL byte after the password"
NOAUTH=1 req GET /v2/catalog "" -H "Authorization: Basic $(head -c 3000 /dev/zero | tr '\0' a | base64 -w0)"
expect_error 401 Unauthorized "an overlong Basic value"
NOAUTH=1 req GET /v2/catalog "" -u rotated:second-password
expect_status 200 "the second account is accepted too"
req GET /v2/catalog
expect_status 200 "the first account is accepted"
expect_true "nothing was provisioned by refused requests" [ "$(tenants)" = 0 ]
req GET /v2/service_instances/i-auth
expect_status 404 "no instance was created by refused requests"

# --- health needs no auth, no version
NOAUTH=1 NOVERSION=1 req GET /health/live
expect_status 200 "health/live needs neither auth nor version"
NOAUTH=1 NOVERSION=1 req GET /health/ready
expect_status 200 "health/ready needs neither auth nor version"

# --- X-Broker-API-Request-Identity
req GET /v2/catalog "" -H 'X-Broker-API-Request-Identity: 6f1c1d8e-0d6c-4a51-9b3c-7cf1d1f5a001'
expect_header X-Broker-API-Request-Identity '6f1c1d8e-0d6c-4a51-9b3c-7cf1d1f5a001' "request identity echoed on catalog"
req PUT /v2/service_instances/i-rid "$(provision_body plan-sync)" -H 'X-Broker-API-Request-Identity: rid-provision-1'
expect_status 201 "provision with a request identity"
expect_header X-Broker-API-Request-Identity 'rid-provision-1' "request identity echoed on provision"
req GET /v2/service_instances/missing "" -H 'X-Broker-API-Request-Identity: rid-404'
expect_header X-Broker-API-Request-Identity 'rid-404' "request identity echoed on a 404"
NOAUTH=1 req GET /v2/catalog "" -H 'X-Broker-API-Request-Identity: rid-401'
expect_header X-Broker-API-Request-Identity 'rid-401' "request identity echoed on a 401"
NOVERSION=1 req GET /v2/catalog "" -H 'X-Broker-API-Request-Identity: rid-412'
expect_header X-Broker-API-Request-Identity 'rid-412' "request identity echoed on a 412"
req GET /v2/catalog
expect_header X-Broker-API-Request-Identity '[0-9a-f-]{36}' "a request identity is made up when none is sent"
expect_true "request identity appears in the broker log" log_has '"request_id":"rid-provision-1"'

# --- X-Broker-API-Originating-Identity
ident=$(printf '{"user_id":"683ea748-3092-4ff4-b656-39cacc4d5360"}' | base64 -w0)
req PUT /v2/service_instances/i-oid "$(provision_body plan-sync)" -H "X-Broker-API-Originating-Identity: cloudfoundry $ident"
expect_status 201 "provision with a valid originating identity"
req GET /v2/catalog "" -H "X-Broker-API-Originating-Identity: kubernetes $(printf '{"username":"a","groups":["x"]}' | base64 -w0)"
expect_status 200 "a kubernetes originating identity"
n0=$(tenants)
for bad in "cloudfoundry" "cloudfoundry " " $ident" "cloudfoundry !!!notbase64!!!" \
	"cloudfoundry $(printf '"just a string"' | base64 -w0)" "cloudfoundry $(printf '[1,2]' | base64 -w0)" \
	"cloudfoundry $(printf '{"user_id":' | base64 -w0)" "cloudfoundry $(printf 'not json' | base64 -w0)"; do
	req PUT /v2/service_instances/i-badoid "$(provision_body plan-sync)" -H "X-Broker-API-Originating-Identity: $bad"
	expect_error 400 BadRequest "malformed originating identity '$bad'"
done
req GET /v2/catalog "" -H "X-Broker-API-Originating-Identity: cloudfoundry"
expect_error 400 BadRequest "malformed originating identity on the catalog"
expect_true "refused identities changed nothing" [ "$(tenants)" = "$n0" ]
req GET /v2/service_instances/i-badoid
expect_status 404 "no instance from a refused identity"

# --- Content type of answers
req GET /v2/catalog
expect_header Content-Type 'application/json' "catalog is application/json"
req GET /v2/service_instances/i-rid
expect_header Content-Type 'application/json' "fetch is application/json"
req DELETE "/v2/service_instances/nope?service_id=svc-fake&plan_id=plan-sync"
expect_header Content-Type 'application/json' "410 is application/json"
expect_jq '. == {}' true "410 body is {}"
# A body without a Content-Type is still processed.
STATUS=$(curl -s -o "$WORK/body" -w '%{http_code}' -X PUT -u "$USER_NAME:$USER_PASS" -H "X-Broker-API-Version: 2.17" \
	-H 'Content-Type:' --data-binary "$(provision_body plan-sync)" "$BASE/v2/service_instances/i-noctype")
BODY=$(cat "$WORK/body")
expect_status 201 "a body without Content-Type is processed"
finish
