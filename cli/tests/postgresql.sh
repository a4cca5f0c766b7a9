#!/usr/bin/env bash
# osb end to end against the real PostgreSQL broker and a real PostgreSQL 15 (synchronous plans):
# register, marketplace, create (parameters checked first), bind, use the credentials with psql,
# update, unbind (the credentials stop working), delete; --json everywhere; bad input changes nothing.
. "$(dirname "$0")/lib.sh"
command -v psql >/dev/null || die "psql is needed on PATH"
export PGCONNECT_TIMEOUT=5
unset PGPASSWORD PGUSER PGHOST PGPORT PGDATABASE PGSERVICE || true

step "a PostgreSQL server and the PostgreSQL broker"
admin_pw=$(random_pw)
broker_pw=$(random_pw)
pg_port=$(free_port)
"$ROOT/scripts/pg-start.sh" "$WORK/pg" "$pg_port" "$admin_pw" >/dev/null || die "PostgreSQL did not start"
STOPPERS+=("'$ROOT/scripts/pg-stop.sh' '$WORK/pg'")
export OSB_DRIVER_ADMIN_PASSWORD=$admin_pw
start_broker postgresql "$(broker_config postgresql "$(free_port $((pg_port + 1)))" "$WORK/pgb" "$broker_pw" \
	"{\"host\": \"127.0.0.1\", \"port\": $pg_port, \"admin_user\": \"postgres\", \"sslmode\": \"disable\"}")"
PGB=$BROKER_URL
admin_sql() {
	PGPASSWORD=$admin_pw psql -X -q -At -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "$1"
}
databases() {
	admin_sql "SELECT count(*) FROM pg_database WHERE datname LIKE 'osb\_%'"
}

step "brokers: the account never on the command line"
osb register-broker pg "$PGB" </dev/null
expect_rc 2 "register-broker without an account in the environment and no terminal"
expect_err 'OSB_BROKER_USERNAME and OSB_BROKER_PASSWORD' "says where the account comes from"
register pg "$PGB" wrong-password
expect_rc 1 "a wrong password is refused at once"
expect_true "nothing was saved" [ ! -f "$OSB_HOME/config.json" ]
register pg "http://broker:$broker_pw@${PGB#http://}" "$broker_pw"
expect_rc 2 "an account inside the URL is refused"
register pg "$PGB" "$broker_pw"
expect_rc 0 "register-broker pg"
expect_true "config.json is 0600" [ "$(stat -c %a "$OSB_HOME/config.json")" = 600 ]
expect_true "the directory is 0700" [ "$(stat -c %a "$OSB_HOME")" = 700 ]
osb brokers
expect_rc 0 "brokers"
expect_out "^pg +$PGB +broker +config" "lists pg"
expect_true "never the password" bash -c "! grep -q '$broker_pw' <<<'$OUT'"
osb --json brokers
expect_jq '.brokers[0].name + " " + .brokers[0].url' "pg $PGB" "brokers --json"
expect_jq '.brokers[0] | has("password")' false "no password in --json either"
chmod 644 "$OSB_HOME/config.json"
osb brokers
expect_rc 6 "a config.json others can read is refused"
expect_err 'chmod 600' "and says how to fix it"
chmod 600 "$OSB_HOME/config.json"

step "marketplace"
osb marketplace
expect_rc 0 "marketplace"
expect_out '^postgresql +small, medium, large +PostgreSQL' "the service with its plans"
osb marketplace -s postgresql
expect_rc 0 "marketplace -s postgresql"
expect_out '^  small \(' "plans in detail"
expect_out 'extensions +array +Extensions to create in the database' "with their parameters"
osb --json marketplace
expect_jq '.brokers[0].name' pg "marketplace --json names the broker"
expect_jq '[.brokers[0].services[].plans[].name] | join(",")' "small,medium,large" "and has the catalog"
expect_jq '.brokers[0].plan_features | length' 3 "and the plan features"
osb marketplace -s nothing
expect_rc 3 "an unknown service"

step "create-service: parameters are checked before anything is sent"
before=$(databases)
osb create-service postgresql small db1 -c '{"extensions": ["nope"]}'
expect_rc 4 "an extension the schema does not allow"
expect_err 'parameters.extensions\[0\]: must be one of' "the schema's own message"
expect_err 'Extensions to create in the database' "and what the field is for"
osb --json create-service postgresql small db1 -c '{"extensions": "pgcrypto"}'
expect_rc 4 "a string where an array is due (--json)"
expect_jq '.error.code' 4 "--json error code"
expect_jq '.error.schema_error' "parameters.extensions: must be an array" "--json schema error"
osb create-service postgresql small db1 -c '{"extensions": '
expect_rc 2 "parameters that are not JSON"
osb create-service postgresql small db1 -c '[1]'
expect_rc 2 "parameters that are not an object"
osb create-service postgresql tiny db1
expect_rc 3 "an unknown plan"
expect_err 'its plans: small, medium, large' "lists the plans"
osb create-service postgresql small 'bad name'
expect_rc 2 "a bad instance name"
osb create-service postgresql small db1 extra-arg
expect_rc 2 "too many arguments"
expect_true "nothing reached the server" [ "$(databases)" = "$before" ]
expect_true "no usage record at the broker" [ "$(usage_events "$PGB" "$broker_pw" | jq length)" = 0 ]
osb services
expect_err 'No service instances' "no instance recorded locally"

echo '{"extensions": ["pgcrypto"]}' >"$WORK/params.json"
osb create-service postgresql small db1 -c "@$WORK/params.json"
expect_rc 0 "create-service postgresql small db1 (synchronous)"
expect_out '^last operation: +create succeeded' "created"
osb create-service postgresql small db1
expect_rc 1 "the same name again"
expect_true "one database on the server" [ "$(databases)" = $((before + 1)) ]
osb --json service db1
expect_rc 0 "service db1 --json"
expect_jq '.plan + " " + .last_operation.state + " " + .broker' "small succeeded pg" "plan, state and broker"
expect_jq '.parameters.extensions[0]' pgcrypto "the parameters as the broker has them"
IID=$(jq -r .instance_id <<<"$OUT")
expect_true "the instance id is a UUID" grep -qE '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' <<<"$IID"
expect_true "state.json is 0600" [ "$(stat -c %a "$OSB_HOME/state.json")" = 600 ]

step "bind-service: credentials that work with psql"
osb bind-service db1 app1
expect_rc 0 "bind-service db1 app1"
expect_err 'Bound app1 to db1' "says so"
CRED=$OUT
URI=$(jq -r .uri <<<"$CRED")
expect_true "credentials printed as JSON with a uri" grep -q '^postgresql://' <<<"$URI"
out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$URI" -c "CREATE TABLE t (v text); INSERT INTO t VALUES ('hello'); SELECT v FROM t" 2>&1)
expect_true "psql with the credentials writes and reads ($out)" [ "$out" = hello ]
out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$URI" -c "SELECT extname FROM pg_extension WHERE extname = 'pgcrypto'" 2>&1)
expect_true "the extension asked for is there" [ "$out" = pgcrypto ]
expect_true "credentials are never stored locally" bash -c "! grep -rq '$(jq -r .password <<<"$CRED")' '$OSB_HOME'"
osb --json bind-service db1 app2
expect_rc 0 "bind-service --json"
expect_jq '.binding + " " + (.credentials.uri | startswith("postgresql://") | tostring)' "app2 true" "--json has the binding and its credentials"
osb bind-service db1 app1
expect_rc 1 "a binding name used twice"
osb --json service db1
expect_jq '[.bindings[].name] | sort | join(",")' "app1,app2" "service lists both bindings"

step "update-service"
osb update-service db1 -p huge
expect_rc 3 "an unknown plan"
osb update-service db1 -c '{"extensions": ["nope"]}'
expect_rc 4 "update parameters checked against the update schema"
osb update-service db1
expect_rc 2 "nothing to update"
osb update-service db1 -p medium -c '{"extensions": ["hstore"]}'
expect_rc 0 "update-service db1 -p medium"
expect_out '^plan: +medium' "now medium"
out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$URI" -c "SELECT v FROM t" 2>&1)
expect_true "the data and the binding survive the update ($out)" [ "$out" = hello ]

step "unbind-service: the credentials stop working"
osb unbind-service db1 app1
expect_rc 0 "unbind-service db1 app1"
if psql -X -q -At -d "$URI" -c "SELECT 1" >/dev/null 2>&1; then fail "psql still logs in after unbind"; else
	pass "psql is refused after unbind"; fi
osb unbind-service db1 app1
expect_rc 3 "unbinding it again"

step "several osb at once: the state file loses nothing"
pids=()
for i in 1 2 3 4 5 6; do
	"$OSB_BIN" create-service postgresql small "par$i" >/dev/null 2>"$WORK/stderr-par$i" &
	pids+=($!)
done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
expect_true "six creations at once succeed ($bad failed)" [ "$bad" = 0 ]
osb --json services
expect_jq '[.services[].name] | sort | join(",")' "db1,par1,par2,par3,par4,par5,par6" "all six are recorded"
pids=()
for i in 1 2 3 4 5 6; do
	"$OSB_BIN" delete-service "par$i" -f >/dev/null 2>"$WORK/stderr-del$i" &
	pids+=($!)
done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
expect_true "six deletions at once succeed ($bad failed)" [ "$bad" = 0 ]
osb --json services
expect_jq '[.services[].name] | join(",")' "db1" "and all six are forgotten"

step "services and usage"
osb services
expect_rc 0 "services"
expect_out '^db1 +postgresql +medium +1 +update succeeded +pg' "one line per instance"
events=$(usage_events "$PGB" "$broker_pw")
expect_true "the broker's usage log has db1's whole story" [ "$(jq -r --arg id "$IID" '[.[] | select(.instance_id == $id) | .type] | join(" ")' <<<"$events")" = \
	"instance_created binding_created binding_created instance_plan_changed binding_deleted" ]
expect_true "and one created and one deleted per parallel instance" \
	[ "$(jq -r --arg id "$IID" '[.[] | select(.instance_id != $id) | .type] | group_by(.) | map("\(.[0]) \(length)") | join(", ")' <<<"$events")" = \
	"instance_created 6, instance_deleted 6" ]
expect_true "with this tool's identity" [ "$(jq -r '.[0].originating_identity.platform' <<<"$events")" = osb ]
expect_true "and its context" [ "$(jq -r '.[0].context.instance_name + " " + .[0].context.platform' <<<"$events")" = "db1 osb" ]

step "delete-service"
osb delete-service db1 </dev/null
expect_rc 2 "no confirmation without a terminal"
osb --json delete-service db1 -f
expect_rc 0 "delete-service db1 -f"
expect_jq '.deleted' true "--json says deleted"
expect_true "no database left on the server" [ "$(databases)" = "$before" ]
osb service db1
expect_rc 3 "the name is gone"
osb unregister-broker pg
expect_rc 0 "unregister-broker pg"

step "a broker from the environment, for one run"
OSB_BROKER_URL=$PGB OSB_BROKER_USERNAME=broker OSB_BROKER_PASSWORD=$broker_pw osb --json brokers
expect_jq '.brokers[0].name + " " + .brokers[0].source' "env environment" "OSB_BROKER_URL adds a broker"
OSB_BROKER_URL=$PGB osb brokers
expect_rc 6 "without its account"
OSB_BROKER_URL=$PGB OSB_BROKER_USERNAME=broker OSB_BROKER_PASSWORD=$broker_pw osb create-service postgresql small db2
expect_rc 0 "create-service through it"
OSB_BROKER_URL=$PGB OSB_BROKER_USERNAME=broker OSB_BROKER_PASSWORD=$broker_pw osb delete-service db2 -f
expect_rc 0 "delete-service through it"

step "a broker that is down"
register pg "$PGB" "$broker_pw"
expect_rc 0 "register pg again"
kill -TERM "${BROKER_PIDS[0]}"
wait "${BROKER_PIDS[0]}"
rc=$?
BROKER_PIDS=()
expect_true "the broker stops cleanly on SIGTERM (exit $rc)" [ "$rc" = 0 ]
osb marketplace
expect_rc 5 "no broker reachable"
expect_err 'broker pg could not be read' "says which one"
osb --json create-service postgresql small db4
expect_rc 3 "create-service when the only broker is down: no such service"
expect_jq '.error.code' 3 "--json error"
finish
