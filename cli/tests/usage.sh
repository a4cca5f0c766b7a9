#!/usr/bin/env bash
# osb without brokers: help, bad command lines, exit codes, --json errors, the local files' checks.
. "$(dirname "$0")/lib.sh"

step "help"
osb
expect_rc 2 "no verb"
expect_out '^Usage: osb \[--json\] VERB' "shows the help"
osb help
expect_rc 0 "help"
for verb in marketplace services service create-service update-service delete-service bind-service unbind-service \
	brokers register-broker unregister-broker; do
	osb help "$verb"
	expect_rc 0 "help $verb"
	expect_out "^Usage: osb $verb" "help $verb shows its usage"
done
expect_out 'Exit codes: 0 done' "the exit codes are in the help"
osb create-service --help
expect_rc 0 "VERB --help"
expect_out '^Usage: osb create-service SERVICE PLAN NAME' "is the verb's help"
osb help nothing
expect_rc 2 "help of an unknown verb"
osb --json help
expect_jq '[.verbs[].verb] | length' 12 "help --json lists the verbs"
osb --json help bind-service
expect_jq '.usage' "osb bind-service NAME BINDING [-c JSON|@FILE] [--no-wait]" "help --json VERB"
osb --version
expect_rc 0 "--version"
expect_out '^osb [0-9]+\.[0-9]+\.[0-9]+ \(OSB API 2\.13-2\.17\)' "prints the version"

step "bad command lines are exit 2, with the usage"
osb frobnicate
expect_rc 2 "an unknown verb"
osb --json frobnicate
expect_rc 2 "an unknown verb, --json"
expect_jq '.error.code' 2 "--json errors are JSON on stdout"
expect_jq '.error.message' "no verb frobnicate (osb help lists them)" "with a message"
for args in "create-service" "create-service a b" "create-service a b c d" "create-service a b c --bogus" \
	"update-service" "update-service x" "delete-service" "delete-service a b" "bind-service a" "unbind-service a" \
	"service" "services extra" "brokers extra" "register-broker a" "unregister-broker" "marketplace extra" \
	"marketplace -s a --serve 127.0.0.1:0"; do
	# shellcheck disable=SC2086
	osb $args
	expect_rc 2 "osb $args"
done
expect_err 'usage: osb marketplace' "with the verb's usage line"
osb create-service svc plan -bad
expect_rc 2 "an instance name that reads as an option"
osb create-service svc plan "$(head -c 65 /dev/zero | tr '\0' a)"
expect_rc 2 "an instance name of 65 characters"
osb create-service svc plan 'a/b'
expect_rc 2 "an instance name with a slash"
OSB_BROKER_USERNAME=u OSB_BROKER_PASSWORD=p osb register-broker 'b b' http://127.0.0.1:1
expect_rc 2 "a broker name with a space"
OSB_BROKER_USERNAME=u OSB_BROKER_PASSWORD=p osb register-broker b ftp://127.0.0.1:1
expect_rc 2 "a URL that is not http(s)"

step "not found is exit 3; nothing registered yet"
osb service nothing
expect_rc 3 "service of an unknown name"
osb --json delete-service nothing -f
expect_rc 3 "delete-service of an unknown name"
expect_jq '.error.code' 3 "--json"
osb unregister-broker nothing
expect_rc 3 "unregister an unknown broker"
osb marketplace
expect_rc 3 "marketplace with no broker"
osb create-service svc plan x
expect_rc 3 "create-service with no broker"
osb services
expect_rc 0 "services with nothing yet"
osb --json services
expect_jq '.services | length' 0 "services --json"
osb --json brokers
expect_jq '.brokers | length' 0 "brokers --json"

step "an unreachable broker is exit 5"
port=$(free_port)
OSB_BROKER_USERNAME=u OSB_BROKER_PASSWORD=p osb register-broker b "http://127.0.0.1:$port"
expect_rc 5 "register-broker with nothing listening"
expect_true "nothing saved" [ ! -f "$OSB_HOME/config.json" ]
OSB_BROKER_URL=http://127.0.0.1:$port OSB_BROKER_USERNAME=u OSB_BROKER_PASSWORD=p osb marketplace
expect_rc 5 "marketplace through an unreachable broker from the environment"

step "local files: exit 6 when they cannot be used"
echo 'not json' >"$OSB_HOME/state.json"
osb services
expect_rc 6 "a state.json that is not JSON"
expect_err 'state.json is not a JSON object' "names the file"
rm "$OSB_HOME/state.json"
printf '{"brokers": [{"name": "x"}]}' >"$OSB_HOME/config.json"
chmod 600 "$OSB_HOME/config.json"
osb brokers
expect_rc 6 "a config.json with a broker missing its fields"
rm "$OSB_HOME/config.json"
OSB_HOME=/proc/osb-cannot-be-here osb services
expect_rc 6 "a directory that cannot be made"
env -u HOME -u OSB_HOME -u XDG_CONFIG_HOME "$OSB_BIN" services >/dev/null 2>&1 && RC=0 || RC=$?
expect_rc 6 "no HOME, OSB_HOME or XDG_CONFIG_HOME"
XDG_CONFIG_HOME=$WORK/xdg env -u OSB_HOME "$OSB_BIN" services >/dev/null 2>&1 && RC=0 || RC=$?
expect_rc 0 "XDG_CONFIG_HOME is honoured"
expect_true "the files go under \$XDG_CONFIG_HOME/osb" [ -f "$WORK/xdg/osb/state.lock" ]
finish
