#!/usr/bin/env bash
# GET /v2/catalog: 200, the required fields, ids and names unique, private settings hidden, ETag and If-None-Match.
. "$(dirname "$0")/../lib.sh"
start_broker

req GET /v2/catalog
expect_status 200 "catalog"
expect_header Content-Type 'application/json' "catalog is JSON"
expect_jq '.services | type' array "services is an array"
expect_jq '[.services[] | select((.id|type)!="string" or .id=="" or (.name|type)!="string" or .name=="" or (.description|type)!="string" or .description=="" or (.bindable|type)!="boolean" or (.plans|type)!="array" or (.plans|length)==0)] | length' 0 \
	"every service has id, name, description, bindable and at least one plan"
expect_jq '[.services[].plans[] | select((.id|type)!="string" or .id=="" or (.name|type)!="string" or .name=="" or (.description|type)!="string" or .description=="")] | length' 0 \
	"every plan has id, name and description"
expect_jq '[.services[].id] | length == (unique|length)' true "service ids are unique"
expect_jq '[.services[].name] | length == (unique|length)' true "service names are unique"
expect_jq '[.services[].plans[].id] | length == (unique|length)' true "plan ids are unique across services"
expect_jq '[.services[] | [.plans[].name] | length == (unique|length)] | all' true "plan names are unique within a service"
expect_jq '[.services[].plans[] | select(.maintenance_info) | .maintenance_info.version | test("^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)([-+].*)?$")] | all' true \
	"maintenance_info versions are semantic versions"
expect_jq '[.. | objects | select(has("x-osb"))] | length' 0 "private x-osb settings are not served"
expect_jq '[.services[].plans[].schemas? // empty | .. | objects | select(has("parameters")) | .parameters["$schema"] | type] | all(. == "string")' true \
	"every parameters schema declares \$schema"
expect_jq '[.. | objects | select(has("$ref")) | ."$ref" | select(startswith("#") | not)] | length' 0 "schemas hold no external references"
expect_jq '[.services[].plans[].schemas? // empty | .. | objects | select(has("parameters")) | .parameters | tojson | length] | all(. <= 65536)' true \
	"no schema is larger than 64 kB"
expect_jq '[.services[].plans[] | .maximum_polling_duration // 1 | type == "number" and . > 0 and floor == .] | all' true "maximum_polling_duration is a positive integer"
expect_jq '.services[] | select(.id=="svc-fake") | .plans[] | select(.id=="plan-rotate") | .binding_rotatable' true "binding_rotatable served"
expect_jq '.services[] | select(.id=="svc-fake") | .plans[] | select(.id=="plan-async") | .maximum_polling_duration' 60 "maximum_polling_duration served"
expect_jq '.services[] | select(.id=="svc-fake") | .plans[] | select(.id=="plan-nobind") | .bindable' false "bindable false served"
expect_jq '.services[] | select(.id=="svc-fake") | .plans[] | select(.id=="plan-fixed") | .plan_updateable' false "plan_updateable false served"
expect_jq '.services[] | select(.id=="svc-fake") | .instances_retrievable' true "instances_retrievable declared (fetch is supported)"
expect_jq '.services[] | select(.id=="svc-fake") | .bindings_retrievable' true "bindings_retrievable declared (fetch is supported)"
expect_jq '.services[] | select(.id=="svc-fake") | .allow_context_updates' true "allow_context_updates served"
CAT1=$BODY
etag=$(header ETag)
expect_true "an ETag is sent" [ -n "$etag" ]

req GET /v2/catalog
expect_true "the catalog is the same on every request" [ "$BODY" = "$CAT1" ]
expect_true "and so is the ETag" [ "$(header ETag)" = "$etag" ]

req GET /v2/catalog "" -H "If-None-Match: $etag"
expect_status 304 "If-None-Match with the current ETag"
expect_true "304 has no body" [ -z "$BODY" ]
expect_header ETag "$(printf '%s' "$etag" | sed 's/"/\\"/g')" "304 repeats the ETag"
req GET /v2/catalog "" -H "If-None-Match: \"0000\", $etag"
expect_status 304 "If-None-Match with a list holding the ETag"
req GET /v2/catalog "" -H 'If-None-Match: *'
expect_status 304 "If-None-Match: *"
req GET /v2/catalog "" -H 'If-None-Match: "0123456789abcdef0123456789abcdef"'
expect_status 200 "If-None-Match with another ETag"
expect_true "full catalog then" [ "$BODY" = "$CAT1" ]

# HEAD: same headers, no body
STATUS=$(curl -s -I -o /dev/null -w '%{http_code}' -u "$USER_NAME:$USER_PASS" -H 'X-Broker-API-Version: 2.17' "$BASE/v2/catalog")
expect_status 200 "HEAD catalog"

# The catalog stays the same across a restart (ids never change).
stop_broker
start_broker
req GET /v2/catalog
expect_true "same catalog after a restart" [ "$BODY" = "$CAT1" ]
expect_true "same ETag after a restart" [ "$(header ETag)" = "$etag" ]

# A catalog with an extra service has a different ETag.
jq '.services += [{"id":"svc-extra","name":"extra","description":"x","bindable":false,"plans":[{"id":"plan-extra","name":"extra","description":"x"}]}]' \
	"$ROOT/tests/api/catalog.json" >"$WORK/catalog2.json"
stop_broker
sed -i "s|\"catalog\": \"[^\"]*\"|\"catalog\": \"$WORK/catalog2.json\"|" "$WORK/config.json"
start_broker
req GET /v2/catalog "" -H "If-None-Match: $etag"
expect_status 200 "a changed catalog is sent again despite the old ETag"
expect_true "with a new ETag" [ "$(header ETag)" != "$etag" ]
expect_jq '[.services[].id] | index("svc-extra") != null' true "the new service is served"
finish
