#!/usr/bin/env bash
# Runs broker binaries on configs rendered from their generated BOSH jobs: `--check-config` on
# every case of the job (tests/bosh/cases: generic-broker.yml and <mw>-broker.yml), or starts
# the broker from rendered configs and calls /health and /v2/catalog with the rendered
# accounts: PostgreSQL, MariaDB, RabbitMQ and Redis brokers against a real server (found
# through the job's link and through explicit `driver` settings), any other broker against
# the server its test adapter starts, or with its server down when it has no adapter (health
# and catalog still answer). /var/vcap paths are rewritten into a temp dir that mimics a
# BOSH VM's layout.
# Usage: brokers.sh check|start|start-tls REPO_ROOT JOBS_DIR MW=BROKER_BINARY...
#        (JOBS_DIR: bosh-jobs/scripts/generate-jobs --out JOBS_DIR)
set -euo pipefail

mode=${1:?usage: brokers.sh check|start|start-tls REPO_ROOT JOBS_DIR MW=BINARY...}
root=${2:?repo root}
jobs=${3:?jobs directory}
shift 3
root=$(cd "$root" && pwd)
jobs=$(cd "$jobs" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
[ "$#" -gt 0 ] || { echo "FAIL: no broker binary given (is any broker built?)" >&2; exit 1; }
for tool in ruby curl openssl; do
	command -v "$tool" >/dev/null || { echo "FAIL: $tool is needed on PATH" >&2; exit 1; }
done

work=$(mktemp -d /tmp/osb-bosh-test.XXXXXX)
chmod 711 "$work"
pids=()
pg_dirs=()
mariadb_dirs=()
rabbitmq_dirs=()
redis_dirs=()
cleanup() {
	local rc=$?
	set +e
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for dir in "${pg_dirs[@]}"; do "$root/scripts/pg-stop.sh" "$dir" >/dev/null 2>&1; done
	for dir in "${mariadb_dirs[@]}"; do "$root/scripts/mariadb-stop.sh" "$dir" >/dev/null 2>&1; done
	for dir in "${rabbitmq_dirs[@]}"; do "$root/scripts/rabbitmq-stop.sh" "$dir" >/dev/null 2>&1; done
	for dir in "${redis_dirs[@]}"; do "$root/scripts/redis-stop.sh" "$dir" >/dev/null 2>&1; done
	stop_adapter_servers
	# Dedicated servers outlive their broker by design: stop those this test's brokers made
	# (their working directory is in $work).
	local p cwd
	for p in $(pgrep -x redis-server || true); do
		cwd=$(readlink "/proc/$p/cwd" 2>/dev/null) || continue
		case $cwd in "$work/"*) kill -KILL "$p" 2>/dev/null ;; esac
	done
	if [ "$rc" != 0 ]; then
		for log in "$work"/*.log; do
			[ -f "$log" ] || continue
			echo "--- last lines of $log ---" >&2
			tail -n 30 "$log" >&2
		done
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# A self-signed certificate for 127.0.0.1, as an operator would put in broker.tls.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$work/tls.key" -out "$work/tls.crt" >/dev/null 2>&1 ||
	fail "openssl could not make a test certificate"

# render MW CASE VCAP_ROOT [render.rb options...]: the job's files under VCAP_ROOT/jobs/<job>,
# the package (binary, catalogs) under VCAP_ROOT/packages/osb-brokers.
render() {
	local mw=$1 case_name=$2 vroot=$3 bin
	shift 3
	bin=$(binary_of "$mw")
	local job=$mw-broker
	mkdir -p "$vroot/packages/osb-brokers/bin" "$vroot/packages/osb-brokers/catalog"
	ln -sf "$bin" "$vroot/packages/osb-brokers/bin/osb-$mw-broker"
	cp "$root"/catalog/*.json "$vroot/packages/osb-brokers/catalog/"
	local extra=()
	if [ "$case_name" = full ] && [ "${with_tls:-1}" = 1 ]; then
		extra+=(--set-file "broker.tls.certificate=$work/tls.crt" --set-file "broker.tls.private_key=$work/tls.key")
	fi
	ruby "$here/render.rb" --job "$jobs/$job" --case "$case_name" \
		--out "$vroot/jobs/$job" --vcap-root "$vroot" "${extra[@]}" "$@"
}

# fit_to_binary MW CONFIG: a core built before the deployer's `dedicated` section refuses
# it; then drop it from CONFIG (saying so) and test the rest.
fit_to_binary() {
	local mw=$1 config=$2
	if ! "${binaries[$mw]}" --check-config --config "$config" >"$work/fit.out" 2>&1 &&
		grep -q 'dedicated: unknown key' "$work/fit.out"; then
		echo "note $mw-broker: this binary's core has no \"dedicated\" section; testing the config without it"
		ruby -rjson -e 'c = JSON.parse(File.read(ARGV[0])); c.delete("dedicated"); File.write(ARGV[0], JSON.pretty_generate(c))' "$config"
	fi
}

declare -A binaries=()
for arg in "$@"; do
	mw=${arg%%=*}
	bin=${arg#*=}
	[ -d "$jobs/$mw-broker" ] || fail "$mw: no generated job $jobs/$mw-broker (is $mw in brokers/list?)"
	[ -x "$bin" ] || fail "$bin is not an executable (build osb-$mw-broker first)"
	binaries[$mw]=$bin
done
binary_of() { echo "${binaries[$1]}"; }

case_names() {
	ruby "$here/render.rb" --job "$jobs/$1-broker" --list-cases
}

check_configs() {
	local mw case_name n=0
	for mw in "${!binaries[@]}"; do
		for case_name in $(case_names "$mw"); do
			local vroot=$work/check-$mw-$case_name/vcap
			render "$mw" "$case_name" "$vroot"
			local config=$vroot/jobs/$mw-broker/config/config.json
			fit_to_binary "$mw" "$config"
			"${binaries[$mw]}" --check-config --config "$config" >"$work/check.out" 2>&1 ||
				{ cat "$work/check.out" >&2; fail "$mw-broker ($case_name): --check-config refused the rendered config"; }
			echo "ok   $mw-broker ($case_name): $(tail -n 1 "$work/check.out")"
			n=$((n + 1))
		done
	done
	echo "PASS: $n rendered configs accepted by --check-config"
}

# start_broker NAME VROOT JOB: run the process bpm.yml describes; sets $broker_pid.
start_broker() {
	local name=$1 vroot=$2 job=$3 bpm
	bpm=$vroot/jobs/$job/config/bpm.yml
	# What the rendered pre-start would do as root on the VM: make the broker's directories.
	local dirs_line dirs=()
	dirs_line=$(grep -m1 '^dirs=(' "$vroot/jobs/$job/bin/pre-start") || fail "$job: pre-start has no dirs=(...) line"
	eval "$dirs_line"
	mkdir -p "${dirs[@]}"
	mapfile -t argv < <(ruby -ryaml -e 'p = YAML.safe_load(File.read(ARGV[0]))["processes"][0]; puts p["executable"], *p["args"]' "$bpm")
	"${argv[@]}" >"$work/$name.log" 2>&1 &
	broker_pid=$!
	pids+=("$broker_pid")
}

# wait_live URL CURL_OPTS...: until /health/live answers 200, or fail.
wait_live() {
	local url=$1
	shift
	for _ in $(seq 1 100); do
		if curl -s -o /dev/null --max-time 2 --fail "$@" "$url/health/live"; then
			return 0
		fi
		kill -0 "$broker_pid" 2>/dev/null || fail "the broker exited; see its log"
		sleep 0.1
	done
	fail "no answer from $url/health/live"
}

# status_of URL CURL_OPTS...: the HTTP status (000 when no answer); body in $work/body.
status_of() {
	local url=$1
	shift
	curl -s -o "$work/body" -w '%{http_code}' --max-time 10 "$@" "$url" || true
}

expect() {
	local want=$1 got=$2 what=$3
	[ "$got" = "$want" ] || fail "$what: expected $want, got $got: $(head -c 400 "$work/body" 2>/dev/null)"
	echo "ok   $what: $got"
}

service_names() {
	ruby -rjson -e 'puts JSON.parse(File.read(ARGV[0]))["services"].map { |s| s["name"] }.sort.join(",")' "$1"
}

# Account N (0-based) of a rendered config: "user:password" for curl -u.
account() {
	ruby -rjson -e 'a = JSON.parse(File.read(ARGV[0]))["accounts"][ARGV[1].to_i]; print a["username"], ":", a["password"]' "$1" "$2"
}

start_postgresql() {
	local port pw dir=$work/pg
	port=$("$root/scripts/free-port.sh")
	pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
	pg_dirs+=("$dir")
	"$root/scripts/pg-start.sh" "$dir" "$port" "$pw" >/dev/null || fail "PostgreSQL did not start"
	pg_port=$port
	pg_password=$pw
}

start_mariadb() {
	local port pw dir=$work/mariadb
	port=$("$root/scripts/free-port.sh")
	pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
	mariadb_dirs+=("$dir")
	"$root/scripts/mariadb-start.sh" "$dir" "$port" "$pw" >/dev/null || fail "MariaDB did not start"
	server_port=$port
	server_password=$pw
}

# A RabbitMQ node with the management plugin; its admin user is "admin". Sets
# server_password, amqp_port and mgmt_port (read from the rabbitmq.env it writes).
start_rabbitmq() {
	local pw dir=$work/rabbitmq
	pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
	rabbitmq_dirs+=("$dir")
	"$root/scripts/rabbitmq-start.sh" "$dir" "$pw" >/dev/null || fail "RabbitMQ did not start"
	amqp_port=$(sed -n 's/^AMQP_PORT=//p' "$dir/rabbitmq.env")
	mgmt_port=$(sed -n 's/^MGMT_PORT=//p' "$dir/rabbitmq.env")
	if [ -z "$amqp_port" ] || [ -z "$mgmt_port" ]; then
		fail "RabbitMQ: no ports in $dir/rabbitmq.env"
	fi
	server_password=$pw
}

# A Redis 7 server whose admin ACL user is "admin" (the default user is off).
start_redis() {
	local port pw dir=$work/redis
	port=$("$root/scripts/free-port.sh")
	pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
	redis_dirs+=("$dir")
	"$root/scripts/redis-start.sh" "$dir" "$port" "$pw" >/dev/null || fail "Redis did not start"
	server_port=$port
	server_password=$pw
}

# FIRST LAST: N consecutive ports, none of them in use now, for dedicated servers.
free_range() {
	local n=$1 first p ok
	first=$("$root/scripts/free-port.sh")
	while :; do
		ok=1
		for p in $(seq "$first" $((first + n - 1))); do
			if ss -ltnH "sport = :$p" 2>/dev/null | grep -q .; then ok=0; first=$((p + 1)); break; fi
		done
		[ "$ok" = 1 ] && break
	done
	echo "$first $((first + n - 1))"
}

# osb_call METHOD URL [BODY]: an OSB request as the rendered first account; status out, body in $work/body.
osb_call() {
	local method=$1 target=$2 data=()
	[ "$#" -gt 2 ] && data=(-H 'Content-Type: application/json' --data "$3")
	curl -s -o "$work/body" -w '%{http_code}' --max-time 30 -u "$osb_auth" -H 'X-Broker-API-Version: 2.17' \
		-X "$method" "${data[@]}" "$target" || true
}

json_field() { ruby -rjson -e 'v = JSON.parse(File.read(ARGV[0])).dig(*ARGV[1].split(".")); print v.nil? ? "" : v' "$work/body" "$1"; }

# wait_operation URL INSTANCE WHAT: poll last_operation until it ends; prints the final state
# ("gone" when the instance no longer exists, as after a deprovision).
wait_operation() {
	local url=$1 inst=$2 code state
	for _ in $(seq 1 300); do
		code=$(osb_call GET "$url/v2/service_instances/$inst/last_operation")
		[ "$code" = 410 ] && { echo gone; return 0; }
		[ "$code" = 200 ] || fail "$3: last_operation answered $code: $(head -c 300 "$work/body")"
		state=$(json_field state)
		[ "$state" = "in progress" ] || { echo "$state"; return 0; }
		sleep 0.1
	done
	fail "$3: still in progress after 30 s"
}

# The dedicated plan of a rendered redis-broker config, end to end: the broker's deployer
# runs a redis-server (the rendered driver.redis_server) on a port of broker.dedicated.port_range
# under broker.dedicated.base_dir, credentials name broker.dedicated.host, and it all goes away.
redis_dedicated_lifecycle() {
	local url=$1 config=$2 what=$3 catalog ids sid pid inst bid base dir code
	osb_auth=$(account "$config" 0)
	catalog=$(ruby -rjson -e 'print JSON.parse(File.read(ARGV[0]))["catalog"]' "$config")
	ids=$(ruby -rjson -e 's = JSON.parse(File.read(ARGV[0]))["services"][0]
		p = s["plans"].find { |x| (x["x-osb"] || {})["dedicated"] } or abort "no dedicated plan"
		print s["id"], " ", p["id"]' "$catalog") || fail "$what: the rendered catalog has no dedicated plan"
	sid=${ids% *}
	pid=${ids#* }
	inst=$(cat /proc/sys/kernel/random/uuid)
	bid=$(cat /proc/sys/kernel/random/uuid)
	base=$(ruby -rjson -e 'print JSON.parse(File.read(ARGV[0]))["dedicated"]["base_dir"]' "$config")
	code=$(osb_call PUT "$url/v2/service_instances/$inst?accepts_incomplete=true" \
		"{\"service_id\":\"$sid\",\"plan_id\":\"$pid\",\"organization_guid\":\"org\",\"space_guid\":\"space\"}")
	expect 202 "$code" "$what: provision of a dedicated instance"
	[ "$(wait_operation "$url" "$inst" "$what: provision")" = succeeded ] ||
		fail "$what: dedicated provision did not succeed: $(head -c 300 "$work/body")"
	dir=$(find "$base" -mindepth 1 -maxdepth 1 -type d -name 'osb_*' | head -n 1)
	if [ -z "$dir" ] || [ ! -f "$dir/redis.conf" ]; then
		fail "$what: no server directory under the rendered base_dir $base"
	fi
	echo "ok   $what: dedicated server's data in $dir"
	code=$(osb_call PUT "$url/v2/service_instances/$inst/service_bindings/$bid" "{\"service_id\":\"$sid\",\"plan_id\":\"$pid\"}")
	expect 201 "$code" "$what: bind to the dedicated instance"
	local host port user pass first last
	host=$(json_field credentials.host)
	port=$(json_field credentials.port)
	user=$(json_field credentials.username)
	pass=$(json_field credentials.password)
	first=$(ruby -rjson -e 'print JSON.parse(File.read(ARGV[0]))["dedicated"]["port_range"][0]' "$config")
	last=$(ruby -rjson -e 'print JSON.parse(File.read(ARGV[0]))["dedicated"]["port_range"][1]' "$config")
	[ "$host" = 127.0.0.1 ] || fail "$what: credentials name $host, expected broker.dedicated.host 127.0.0.1"
	if [ "$port" -lt "$first" ] || [ "$port" -gt "$last" ]; then
		fail "$what: port $port is outside broker.dedicated.port_range [$first, $last]"
	fi
	[ "$(REDISCLI_AUTH=$pass redis-cli -h "$host" -p "$port" --user "$user" PING 2>&1)" = PONG ] ||
		fail "$what: the binding's credentials do not reach the dedicated server"
	echo "ok   $what: the binding's user gets PONG from the dedicated server on $host:$port"
	expect 200 "$(osb_call DELETE "$url/v2/service_instances/$inst/service_bindings/$bid?service_id=$sid&plan_id=$pid")" \
		"$what: unbind"
	code=$(osb_call DELETE "$url/v2/service_instances/$inst?service_id=$sid&plan_id=$pid&accepts_incomplete=true")
	expect 202 "$code" "$what: deprovision of the dedicated instance"
	case $(wait_operation "$url" "$inst" "$what: deprovision") in
	succeeded | gone) ;;
	*) fail "$what: dedicated deprovision did not succeed: $(head -c 300 "$work/body")" ;;
	esac
	[ ! -e "$dir" ] || fail "$what: $dir is still there after the deprovision"
	if ss -ltnH "sport = :$port" 2>/dev/null | grep -q .; then fail "$what: something still listens on $port"; fi
	echo "ok   $what: deprovision stopped the server and removed its directory"
}

# One broker started from one rendered case; checks health, catalog and accounts.
run_case() {
	local mw=$1 case_name=$2 scheme=$3 want_services=$4
	shift 4
	local vroot=$work/start-$mw-$case_name-$scheme/vcap job=$mw-broker port
	port=$("$root/scripts/free-port.sh")
	with_tls=0
	[ "$scheme" = https ] && with_tls=1
	render "$mw" "$case_name" "$vroot" --set broker.bind_address='"127.0.0.1"' --set "broker.port=$port" "$@"
	local config=$vroot/jobs/$job/config/config.json
	fit_to_binary "$mw" "$config"
	# auto: whatever catalog file the rendered config names.
	[ "$want_services" = auto ] &&
		want_services=$(service_names "$(ruby -rjson -e 'print JSON.parse(File.read(ARGV[0]))["catalog"]' "$config")")
	start_broker "$mw-$case_name" "$vroot" "$job"
	local url=$scheme://127.0.0.1:$port tls=()
	[ "$scheme" = https ] && tls=(--cacert "$work/tls.crt")
	wait_live "$url" "${tls[@]}"
	echo "ok   $job ($case_name): live at $url"
	local n accounts
	accounts=$(ruby -rjson -e 'puts JSON.parse(File.read(ARGV[0]))["accounts"].size' "$config")
	for ((n = 0; n < accounts; n++)); do
		expect 200 "$(status_of "$url/v2/catalog" "${tls[@]}" -u "$(account "$config" "$n")" -H 'X-Broker-API-Version: 2.17')" \
			"$job ($case_name): GET /v2/catalog as account $n"
		local got
		got=$(service_names "$work/body")
		[ "$got" = "$want_services" ] || fail "$job ($case_name): catalog serves $got, expected $want_services"
		echo "ok   $job ($case_name): catalog serves $got"
	done
	expect 401 "$(status_of "$url/v2/catalog" "${tls[@]}" -u 'broker:wrong-password' -H 'X-Broker-API-Version: 2.17')" \
		"$job ($case_name): GET /v2/catalog with a wrong password"
	if [ "${real_server:-0}" = 1 ]; then
		expect 200 "$(status_of "$url/health/ready" "${tls[@]}")" "$job ($case_name): /health/ready (admin login to the real server)"
	fi
	# A further check of this broker while it runs (plain HTTP only).
	if [ -n "${case_hook:-}" ] && [ "$scheme" = http ]; then
		"$case_hook" "$url" "$config" "$job ($case_name)"
	fi
	kill -TERM "$broker_pid"
	wait "$broker_pid" || fail "$job ($case_name): the broker did not stop cleanly on SIGTERM"
	echo "ok   $job ($case_name): clean stop on SIGTERM"
}

# has_shared_adapter MW: the broker has a test adapter and a shared server to start with it.
has_shared_adapter() {
	[ -f "$root/brokers/$1/tests/adapter.sh" ] && ! grep -q '^ADAPTER_SHARED=0' "$root/brokers/$1/tests/adapter.sh"
}

# Servers started through an adapter (server.sh), as MW:DIR, stopped by stop_adapter_servers.
adapter_servers=()
stop_adapter_servers() {
	local s
	for s in "${adapter_servers[@]}"; do
		bash "$here/server.sh" stop "${s%%:*}" "${binaries[${s%%:*}]}" "${s#*:}" >/dev/null 2>&1 || true
	done
	adapter_servers=()
}

start_brokers() {
	local mw shipped
	for mw in "${!binaries[@]}"; do
		shipped=$(service_names "$root/catalog/$mw.json")
		real_server=0
		# The full case's CA becomes a real certificate (unused by plain connections).
		local ca=(--set-file "driver_ca_certificate=$work/tls.crt")
		case $mw in
		postgresql)
			start_postgresql
			real_server=1
			# The server found through the `database` link: host, port, and the admin password
			# from the role named driver.admin_user.
			[ "$tls_only" = 1 ] || run_case postgresql linked http "$shipped" --link "database={\"instances\":[{\"address\":\"127.0.0.1\"}],\"properties\":{\"databases\":{\"port\":$pg_port,\"roles\":[{\"name\":\"postgres\",\"password\":\"$pg_password\"}]}}}"
			# Every property set: two accounts, the catalog from a property, explicit server settings;
			# over plain HTTP here, over HTTPS in the start-tls mode.
			local server=("${ca[@]}" --set 'driver.host="127.0.0.1"' --set "driver.port=$pg_port" --set 'driver.admin_user="postgres"'
				--set "driver.admin_password=\"$pg_password\"" --set 'driver.sslmode="disable"')
			if [ "$tls_only" = 1 ]; then
				run_case postgresql full https auto "${server[@]}"
			else
				run_case postgresql full http auto "${server[@]}"
			fi
			;;
		mysql)
			start_mariadb
			real_server=1
			local server=("${ca[@]}" --set 'driver.host="127.0.0.1"' --set "driver.port=$server_port" --set 'driver.admin_user="root"'
				--set "driver.admin_password=\"$server_password\"")
			if [ "$tls_only" = 1 ]; then
				run_case mysql full https auto "${server[@]}"
			else
				# Host and port from the `mysql` link; then every property set.
				run_case mysql linked http "$shipped" --link "mysql={\"instances\":[{\"address\":\"127.0.0.1\"}],\"properties\":{\"port\":$server_port}}" \
					--set 'driver.admin_user="root"' --set "driver.admin_password=\"$server_password\""
				run_case mysql full http auto "${server[@]}"
			fi
			;;
		rabbitmq)
			start_rabbitmq
			real_server=1
			local api=(--set "driver.api_url=\"http://127.0.0.1:$mgmt_port\"")
			local server=("${ca[@]}" "${api[@]}" --set 'driver.admin_user="admin"' --set "driver.admin_password=\"$server_password\""
				--set 'driver.amqp_host="127.0.0.1"' --set "driver.amqp_port=$amqp_port"
				--set 'driver.public_host="127.0.0.1"' --set "driver.management_public_url=\"http://127.0.0.1:$mgmt_port\"")
			if [ "$tls_only" = 1 ]; then
				run_case rabbitmq full https auto "${server[@]}"
			else
				# The admin account from the `rabbitmq-server` link (cf-rabbitmq-release's shape);
				# the API's port is the test node's, not the release's fixed 15672.
				run_case rabbitmq linked http "$shipped" "${api[@]}" --link "rabbitmq-server={\"instances\":[{\"address\":\"127.0.0.1\"}],\"properties\":{\"rabbitmq-server\":{\"administrators\":{\"broker\":{\"username\":\"admin\",\"password\":\"$server_password\"}}}}}"
				run_case rabbitmq full http auto "${server[@]}"
			fi
			;;
		redis)
			command -v redis-server >/dev/null || fail "redis-server is needed on PATH (apt-get install redis-server)"
			start_redis
			real_server=1
			local range
			range=$(free_range 3)
			local server=("${ca[@]}" --set 'driver.host="127.0.0.1"' --set "driver.port=$server_port" --set 'driver.admin_user="admin"'
				--set "driver.admin_password=\"$server_password\"" --set 'driver.public_host="127.0.0.1"'
				--set "driver.redis_server=\"$(command -v redis-server)\""
				--set "broker.dedicated.port_range=[${range% *}, ${range#* }]" --set 'broker.dedicated.host="127.0.0.1"')
			if [ "$tls_only" = 1 ]; then
				run_case redis full https auto "${server[@]}"
			else
				# Host, port and password from the `redis` link (redis-boshrelease's shape); the
				# test server's admin is an ACL user of its own rather than `default`.
				run_case redis linked http "$shipped" --set 'driver.admin_user="admin"' \
					--link "redis={\"instances\":[{\"address\":\"127.0.0.1\"}],\"properties\":{\"port\":$server_port,\"password\":\"$server_password\"}}"
				# Every property, and a dedicated instance through the rendered dedicated settings.
				case_hook=redis_dedicated_lifecycle
				run_case redis full http auto "${server[@]}"
				case_hook=
			fi
			;;
		*)
			if has_shared_adapter "$mw"; then
				# Any other broker with a test adapter (the contract's, brokers/<mw>/tests/adapter.sh):
				# it starts a real server and names the `driver` settings for it; every property set.
				local port secret dir=$work/server-$mw driver
				port=$("$root/scripts/free-port.sh")
				secret=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
				adapter_servers+=("$mw:$dir")
				driver=$(bash "$here/server.sh" start "$mw" "${binaries[$mw]}" "$dir" "$port" "$secret") ||
					fail "$mw: the adapter's server did not start"
				real_server=1
				local server=("${ca[@]}" --set "driver=$driver")
				if [ "$tls_only" = 1 ]; then
					run_case "$mw" full https auto "${server[@]}"
				else
					run_case "$mw" full http auto "${server[@]}"
				fi
				stop_adapter_servers
			elif [ "$tls_only" = 1 ]; then
				# Without an adapter, the broker starts while its server is down: health and catalog answer.
				run_case "$mw" full https auto
			else
				run_case "$mw" minimal http "$shipped"
			fi
			;;
		esac
	done
	echo "PASS: brokers started from rendered configs"
}

tls_only=0
case $mode in
check) check_configs ;;
start) start_brokers ;;
start-tls)
	tls_only=1
	start_brokers
	;;
*) fail "unknown mode $mode (check or start)" ;;
esac
