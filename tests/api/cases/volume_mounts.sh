#!/usr/bin/env bash
# Volume services (spec: Volume Services, Volume Mount Object): a service with requires
# volume_mount answers volume_mounts at bind and on GET, checked against the spec's object before
# they are stored (a driver's invalid or missing ones fail the bind, which is undone); no other
# service may answer them; mount_config holds a password, so the store seals it at rest.
. "$(dirname "$0")/../lib.sh"
# The test catalog with a volume service whose bindings need an app, and the fake's steering
# parameters accepted by the second service.
CATALOG=$WORK/catalog.json
jq '.services += [{"id": "svc-volume", "name": "volume", "description": "A volume service.", "bindable": true,
	"requires": ["volume_mount"],
	"plans": [{"id": "plan-volume", "name": "volume", "description": "Bindings are volume mounts.",
		   "x-osb": {"requires_app": true}}]}]' "$ROOT/tests/api/catalog.json" >"$CATALOG"
export CATALOG
start_broker

vbind() { # vbind BINDING_ID [PARAMS_JSON]
	req PUT "/v2/service_instances/v-1/service_bindings/$1" "{\"service_id\":\"svc-volume\",\"plan_id\":\"plan-volume\",
		\"bind_resource\":{\"app_guid\":\"app-1\"}${2:+,\"parameters\":$2}}"
}
GOOD='{"driver":"d","container_dir":"/data","mode":"r","device_type":"shared","device":{"volume_id":"v"}}'

req GET /v2/catalog
expect_jq '.services[] | select(.id == "svc-volume") | .requires | join(",")' volume_mount \
	"the catalog says requires volume_mount"
req PUT /v2/service_instances/v-1 \
	'{"service_id":"svc-volume","plan_id":"plan-volume","organization_guid":"o","space_guid":"s"}'
expect_status 201 "provision a volume service"

# RequiresApp: a volume mount is for an app's containers.
req PUT /v2/service_instances/v-1/service_bindings/b-noapp '{"service_id":"svc-volume","plan_id":"plan-volume"}'
expect_error 422 RequiresApp "bind without an app"

vbind b-1
expect_status 201 "bind"
expect_jq '.volume_mounts | length' 1 "one volume mount"
expect_jq '.volume_mounts[0] | [.driver, .container_dir, .mode, .device_type] | join(" ")' \
	"fakedriver /var/vcap/data/fake rw shared" "driver, container_dir, mode and device_type as the driver set them"
expect_jq '.volume_mounts[0].device.volume_id' "$(binding_tenant b-1)" "the device's volume_id"
MOUNT_PW=$(jqb .volume_mounts[0].device.mount_config.password)
expect_true "mount_config holds the binding's password" [ "$MOUNT_PW" = "$(jqb .credentials.password)" ]
req GET /v2/service_instances/v-1/service_bindings/b-1
expect_status 200 "GET the binding"
expect_jq '.volume_mounts[0].device.mount_config.password' "$MOUNT_PW" "GET answers the same volume_mounts"
expect_true "the mount password is sealed in the state store" \
	sh -c "! cat '$WORK/data/state.db'* | grep -qaF '$MOUNT_PW'"
vbind b-1
expect_status 200 "an identical repeat"
expect_jq '.volume_mounts[0].device.mount_config.password' "$MOUNT_PW" "the repeat answers the stored volume_mounts"
vbind b-ro "{\"mounts\":[$GOOD]}"
expect_status 201 "a read-only mount without mount_config"
expect_jq '.volume_mounts[0].mode' r "mode r"

# What a driver answers is checked against the spec's object; a bad answer fails the bind and is undone.
before=$(tenants)
bad() { # bad WHAT PARAMS_JSON MESSAGE
	vbind b-bad "$2"
	expect_error 500 - "$1"
	expect_true "$1: the description says why" grep -qF "$3" <<<"$(jqb .description)"
	req GET /v2/service_instances/v-1/service_bindings/b-bad
	expect_status 404 "$1: no binding"
}
# mounts FILTER...: {"mounts": [GOOD changed by each jq FILTER]}, one mount per filter.
mounts() {
	local f out=
	for f in "$@"; do out=$out${out:+,}$(jq -c --argjson g "$GOOD" "\$g | $f" <<<null); done
	printf '{"mounts":[%s]}' "$out"
}
bad "a relative container_dir" "$(mounts '.container_dir = "data"')" \
	"volume_mounts[0].container_dir: must be an absolute path"
bad "mode w" "$(mounts '.mode = "w"')" 'volume_mounts[0].mode: must be "r" or "rw"'
bad "a device_type other than shared" "$(mounts . '.device_type = "block"')" "volume_mounts[1].device_type"
bad "no volume_id" "$(mounts '.device = {}')" "device.volume_id: must be a non-empty string"
bad "an empty array" '{"mounts":[]}' "volume_mounts: must be a non-empty array"
bad "no volume_mounts from a volume service" '{"no_mounts":true}' "answered no volume_mounts"
expect_true "the failed binds were undone on the server" [ "$(tenants)" = "$before" ]

# Any other service: volume_mounts are refused (its catalog does not require volume_mount).
req PUT /v2/service_instances/o-1 "$(provision_body plan-other)"
req PUT /v2/service_instances/o-1/service_bindings/b-o \
	"{\"service_id\":\"svc-other\",\"plan_id\":\"plan-other\",\"parameters\":$(mounts .)}"
expect_error 500 - "volume_mounts from a service without requires volume_mount"
expect_true "the description says why" grep -qF "does not require volume_mount" <<<"$(jqb .description)"

# After a restart the sealed volume_mounts read back.
stop_broker
start_broker
req GET /v2/service_instances/v-1/service_bindings/b-1
expect_jq '.volume_mounts[0].device.mount_config.password' "$MOUNT_PW" "volume_mounts after a restart"
req DELETE "/v2/service_instances/v-1/service_bindings/b-1?service_id=svc-volume&plan_id=plan-volume"
expect_status 200 "unbind"
finish
