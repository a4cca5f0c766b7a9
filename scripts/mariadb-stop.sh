#!/usr/bin/env bash
# Stop a server started by scripts/mariadb-start.sh DIR (clean shutdown on SIGTERM) and wait for it.
set -u
dir=${1:?usage: mariadb-stop.sh DIR}
# shellcheck source=scripts/lib/server.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"
stop_pid_file "$dir/mysqld.pid" TERM 10
