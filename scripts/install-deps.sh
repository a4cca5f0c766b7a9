#!/usr/bin/env bash
# Install everything the suite needs to build, run and test on Debian 12 (run as root or with sudo).
# Servers are installed but not started: tests and demos start their own on loopback.
set -euo pipefail
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

# Keep apt from starting default server instances on default ports.
if [ ! -x /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod +x /usr/sbin/policy-rc.d
fi

packages=(
	# build
	build-essential cmake pkg-config git
	# core libraries
	libcivetweb-dev libcjson-dev libsqlite3-dev libssl-dev libpq-dev libpcre2-dev libcurl4-openssl-dev
	# driver libraries
	libhiredis-dev libmariadb-dev librabbitmq-dev
	# servers and their clients, for the integration tests and the demo
	postgresql-15 postgresql-client-15
	mariadb-server mariadb-client
	redis-server redis-tools
	rabbitmq-server
	# test tools (chromium and chromium-driver: the marketplace page in a headless browser)
	curl jq ruby shellcheck iproute2 procps openssl python3 chromium chromium-driver
	# fuzzing and leak checks
	clang libclang-rt-14-dev
)
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
echo "install-deps: done"
