#!/usr/bin/env bash
# A throw-away nats-server 2.9 in operator (JWT) mode on 127.0.0.1, as the broker expects a shared
# server, for tests and demos: an operator and a system account derived from SECRET, the full
# account resolver (accounts pushed and deleted over NATS, kept in DIR/jwt), JetStream in
# DIR/jetstream and the monitoring port (picked with scripts/free-port.sh, kept in DIR/monitor.port).
# Usage: brokers/nats/server.sh start DIR PORT SECRET
#        brokers/nats/server.sh stop DIR
#        brokers/nats/server.sh seeds SECRET              prints the operator seed and the system
#                                                         account seed the broker is given (SO... SA...)
#        brokers/nats/server.sh account SECRET NAME       prints an account JWT named NAME signed by
#                                                         the operator (a key of its own; for tests)
#        brokers/nats/server.sh creds SECRET              prints a creds file of a system account user
#                                                         (the server's admin, for tests)
# nsc is not in Debian: keys are nkeys (ed25519 seeds, base32 with a CRC-16) and JWTs are signed
# with OpenSSL 3. start waits until the server answers on its port and its monitoring endpoint
# and fails with the server's log otherwise; stop sends SIGTERM and waits.
set -euo pipefail
# shellcheck source=scripts/lib/server.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/server.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)

# hex_bin: hex digits on stdin to bytes on stdout (no xxd needed).
hex_bin() { printf '%b' "$(sed 's/../\\x&/g')"; }
bin_hex() { od -An -v -tx1 | tr -d ' \n'; }
# crc16 HEX: the nkey checksum (CRC-16/XMODEM) of the bytes, little-endian, as hex.
crc16() {
	local crc=0 b i hex=$1
	for ((i = 0; i < ${#hex}; i += 2)); do
		b=$((16#${hex:i:2}))
		crc=$((crc ^ (b << 8)))
		for _ in 1 2 3 4 5 6 7 8; do
			if ((crc & 0x8000)); then crc=$(((crc << 1 ^ 0x1021) & 0xffff)); else crc=$((crc << 1 & 0xffff)); fi
		done
	done
	printf '%02x%02x' $((crc & 0xff)) $((crc >> 8))
}
b32() { hex_bin | base32 -w0 | tr -d '='; }
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
# Prefix bytes of nkeys: operator 14<<3, account 0, user 20<<3; seeds start with 18<<3.
prefix_of() { case $1 in O) echo 112 ;; A) echo 0 ;; U) echo 160 ;; esac; }
# seed_of TYPE RAWHEX: the encoded seed (SO..., SA..., SU...).
seed_of() {
	local p body
	p=$(prefix_of "$1")
	body=$(printf '%02x%02x%s' $((144 | p >> 5)) $(((p & 31) << 3)) "$2")
	printf '%s%s' "$body" "$(crc16 "$body")" | b32
}
# der_of RAWHEX: an ed25519 private key in DER for OpenSSL.
der_of() { printf '302e020100300506032b657004220420%s' "$1" | hex_bin; }
# public_of TYPE RAWHEX: the encoded public key (O..., A..., U...).
public_of() {
	local pub body
	pub=$(der_of "$2" | openssl pkey -inform DER -pubout -outform DER | tail -c 32 | bin_hex)
	body=$(printf '%02x%s' "$(prefix_of "$1")" "$pub")
	printf '%s%s' "$body" "$(crc16 "$body")" | b32
}
# jwt RAWHEX_OF_ISSUER CLAIMS_JSON: a JWT signed with the issuer's key (alg ed25519-nkey).
jwt() {
	local head body key msg
	key=$(mktemp)
	msg=$(mktemp)
	der_of "$1" >"$key"
	head=$(printf '{"typ":"JWT","alg":"ed25519-nkey"}' | b64url)
	body=$(printf '%s' "$2" | b64url)
	# ed25519 signs the whole message at once: OpenSSL reads it from a file.
	printf '%s.%s' "$head" "$body" >"$msg"
	printf '%s.%s.%s' "$head" "$body" \
		"$(openssl pkeyutl -sign -inkey "$key" -keyform DER -rawin -in "$msg" | b64url)"
	rm -f "$key" "$msg"
}
# The raw keys of SECRET: the operator's and the system account's (SHA-256 of a label and SECRET).
raw_of() { printf '%s:%s' "$1" "$2" | sha256sum | cut -c1-64; }
claims() { # claims ISSUER_PUB SUBJECT_PUB NAME NATS_JSON
	jq -cn --arg iss "$1" --arg sub "$2" --arg name "$3" --argjson nats "$4" --arg jti "$(head -c 32 /dev/urandom | bin_hex | b32)" \
		'{jti: $jti, iat: now | floor, iss: $iss, name: $name, sub: $sub, nats: $nats}'
}
account_nats='{"limits":{"subs":-1,"data":-1,"payload":-1,"imports":-1,"exports":-1,"wildcards":true,"conn":-1,"leaf":-1},
	"default_permissions":{"pub":{},"sub":{}},"type":"account","version":2}'

seeds() {
	echo "$(seed_of O "$(raw_of osb-nats-operator "$1")") $(seed_of A "$(raw_of osb-nats-system "$1")")"
}

account() { # account SECRET NAME: a new account key, named NAME, signed by the operator
	local op acc
	op=$(raw_of osb-nats-operator "$1")
	acc=$(head -c 32 /dev/urandom | bin_hex)
	jwt "$op" "$(claims "$(public_of O "$op")" "$(public_of A "$acc")" "$2" "$account_nats")"
}

creds() { # creds SECRET: a user of the system account, valid for an hour, as a creds file
	local sys user
	sys=$(raw_of osb-nats-system "$1")
	user=$(head -c 32 /dev/urandom | bin_hex)
	printf -- '-----BEGIN NATS USER JWT-----\n%s\n------END NATS USER JWT------\n\n' \
		"$(jwt "$sys" "$(claims "$(public_of A "$sys")" "$(public_of U "$user")" osb-test-admin \
			'{"pub":{},"sub":{},"subs":-1,"data":-1,"payload":-1,"type":"user","version":2}' |
			jq -c '. + {exp: ((now | floor) + 3600)}')")"
	printf -- '-----BEGIN USER NKEY SEED-----\n%s\n------END USER NKEY SEED------\n' "$(seed_of U "$user")"
}

stop() { local dir=$1; stop_pid_file "$dir/nats.pid" TERM 5; }

start() {
	local dir=$1 port=$2 secret=$3 op sys op_pub sys_pub mon pid tool
	for tool in nats-server openssl jq curl base32 sha256sum; do
		command -v "$tool" >/dev/null || { echo "nats server.sh: $tool not found" >&2; exit 1; }
	done
	mkdir -p "$dir/jwt"
	dir=$(cd "$dir" && pwd)
	umask 077
	op=$(raw_of osb-nats-operator "$secret")
	sys=$(raw_of osb-nats-system "$secret")
	op_pub=$(public_of O "$op")
	sys_pub=$(public_of A "$sys")
	[ -f "$dir/monitor.port" ] || "$root/scripts/free-port.sh" >"$dir/monitor.port"
	mon=$(cat "$dir/monitor.port")
	cat >"$dir/nats.conf" <<CONF
# Written by brokers/nats/server.sh: operator mode, accounts pushed to the full resolver.
server_name: osb_test_$port
listen: 127.0.0.1:$port
http: 127.0.0.1:$mon
pid_file: "$dir/nats.pid"
operator: $(jwt "$op" "$(claims "$op_pub" "$op_pub" osb-test-operator \
		"$(jq -cn --arg s "$sys_pub" '{type: "operator", version: 2, system_account: $s}')")")
system_account: $sys_pub
resolver: { type: full, dir: "$dir/jwt", allow_delete: true, interval: "2m", timeout: "2s" }
resolver_preload: { $sys_pub: $(jwt "$op" "$(claims "$op_pub" "$sys_pub" SYS "$account_nats")") }
jetstream: { store_dir: "$dir", max_memory_store: 268435456, max_file_store: 1073741824 }
debug: ${NATS_SERVER_DEBUG:-false}
CONF
	nats-server -c "$dir/nats.conf" >>"$dir/nats.log" 2>&1 &
	pid=$!
	for _ in $(seq 1 200); do
		if curl -sf "http://127.0.0.1:$mon/healthz" >/dev/null 2>&1 && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "nats server.sh: nats-server ready on 127.0.0.1:$port (pid $pid, monitoring $mon, dir $dir)"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "nats server.sh: nats-server did not start on port $port; log follows" >&2
	cat "$dir/nats.log" >&2
	kill -KILL "$pid" 2>/dev/null || true
	exit 1
}

case ${1:-} in
start) start "${2:?DIR}" "${3:?PORT}" "${4:?SECRET}" ;;
stop) stop "${2:?DIR}" ;;
seeds) seeds "${2:?SECRET}" ;;
account) account "${2:?SECRET}" "${3:?NAME}" ;;
creds) creds "${2:?SECRET}" ;;
*) echo "usage: server.sh start DIR PORT SECRET | stop DIR | seeds SECRET | account SECRET NAME | creds SECRET" >&2; exit 2 ;;
esac
