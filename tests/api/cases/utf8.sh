#!/usr/bin/env bash
# Bytes that are not UTF-8: a body that is not UTF-8 gets 400 "the body is not valid UTF-8" and changes nothing;
# text from the request quoted in a message is cut on a character boundary; every answer body, and every log line,
# is UTF-8 JSON (checked strictly with python3, which refuses what jq would quietly replace).
. "$(dirname "$0")/../lib.sh"
start_broker

req PUT /v2/service_instances/keep "$(provision_body plan-sync)"
req PUT /v2/service_instances/keep/service_bindings/keep-b "$(bind_body plan-sync)"
NT=$(tenants)

# strict_json: the last body decodes as UTF-8 and parses as JSON.
strict_json() {
	python3 -c 'import json,sys; json.loads(open(sys.argv[1],"rb").read().decode("utf-8", errors="strict"))' "$WORK/body" 2>/dev/null
}
# raw METHOD PATH FILE "what": send FILE's bytes as the body; want 400 "the body is not valid UTF-8" in UTF-8 JSON.
raw() {
	req "$1" "$2" "" -H 'Content-Type: application/json' --data-binary @"$3"
	expect_error 400 BadRequest "$4"
	expect_jq '.description' "the body is not valid UTF-8" "$4: the description says so"
	expect_true "$4: the answer is UTF-8 JSON" strict_json
}
body() { printf "$1" >"$WORK/raw.json"; }

# The outside check's request: service_id starting with the bytes FF FE.
body '{"service_id":"\xff\xfesvc-fake","plan_id":"plan-sync","organization_guid":"o","space_guid":"s"}'
raw PUT /v2/service_instances/u-1 "$WORK/raw.json" "provision with service_id starting with FF FE"
body '{"service_id":"\xff\xfesvc-fake","parameters":{"size":2}}'
raw PATCH /v2/service_instances/keep "$WORK/raw.json" "update with service_id starting with FF FE"
body '{"service_id":"\xff\xfe","plan_id":"plan-sync"}'
raw PUT /v2/service_instances/keep/service_bindings/u-b "$WORK/raw.json" "bind with service_id FF FE"
# Other ways to be not UTF-8, in other places of the body.
for bad in '\xc3' '\xe2\x82' '\xc0\xaf' '\xe0\x80\xaf' '\xed\xa0\x80' '\xf4\x90\x80\x80' '\x80' '\xfe'; do
	body "{\"service_id\":\"svc-fake\",\"plan_id\":\"plan-sync\",\"organization_guid\":\"o$bad\",\"space_guid\":\"s\"}"
	raw PUT /v2/service_instances/u-2 "$WORK/raw.json" "provision with organization_guid holding $bad"
	body "{\"service_id\":\"svc-fake\",\"parameters\":{\"label\":\"x$bad\"}}"
	raw PATCH /v2/service_instances/keep "$WORK/raw.json" "update with a parameter holding $bad"
	body "{\"service_id\":\"svc-fake\",\"plan_id\":\"plan-sync\",\"context\":{\"n$bad\":1}}"
	raw PUT /v2/service_instances/keep/service_bindings/u-b "$WORK/raw.json" "bind with a context key holding $bad"
done
req GET /v2/service_instances/keep
expect_status 200 "the instance is still there"
req GET /v2/service_instances/u-1
expect_status 404 "nothing was provisioned"
req GET /v2/service_instances/keep/service_bindings/u-b
expect_status 404 "nothing was bound"
expect_true "the server's tenants are unchanged" [ "$(tenants)" = "$NT" ]

# Valid UTF-8 is accepted, and quoting it never cuts a character: 31 x "é" (2 bytes) then "€" (3 bytes) is 65 bytes,
# and the message quotes at most 64.
long=$(printf 'é%.0s' $(seq 1 31))€
req PUT /v2/service_instances/u-3 "{\"service_id\":\"$long\",\"plan_id\":\"plan-sync\",\"organization_guid\":\"o\",\"space_guid\":\"s\"}"
expect_error 400 BadRequest "an unknown service_id of 65 bytes of UTF-8"
expect_true "the answer is UTF-8 JSON (the quote stops before the cut €)" strict_json
expect_jq '.description | contains("€")' false "the cut character is left out"
expect_jq '.description | contains("éé")' true "the whole characters are kept"
req PUT /v2/service_instances/u-4 "$(provision_body plan-sync '{"label":"café ☕"}')"
expect_status 201 "UTF-8 in a parameter is accepted"
req GET /v2/service_instances/u-4
expect_jq '.parameters.label' "café ☕" "and kept as it was"

# Headers: an API version with bytes over 0x7f is quoted in a 412; an identity that is not UTF-8 is a 400.
API_VERSION=$(printf '2.\xff\xfe') req GET /v2/catalog
expect_error 412 - "an API version holding FF FE"
expect_true "the 412 is UTF-8 JSON" strict_json
req GET /v2/catalog "" -H "X-Broker-API-Originating-Identity: cloudfoundry $(printf '{"user_id":"\xff\xfe"}' | base64 -w0)"
expect_error 400 BadRequest "an originating identity whose JSON is not UTF-8"
expect_true "the 400 is UTF-8 JSON" strict_json
req PUT "/v2/service_instances/keep/service_bindings/u-5" "$(bind_body plan-sync)" \
	-H "X-Broker-API-Originating-Identity: cloudfoundry $(printf '{"user_id":"zoë"}' | base64 -w0)"
expect_status 201 "an originating identity in UTF-8 is accepted"

# Every line the broker logged is UTF-8 JSON.
settle_log
expect_true "every log line is UTF-8 JSON" python3 -c '
import json, sys
for line in open(sys.argv[1], "rb"):
    line = line.decode("utf-8", errors="strict").strip()
    if line.startswith("{"):
        json.loads(line)
' "$WORK/broker.log"
finish
