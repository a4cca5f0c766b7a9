#!/usr/bin/env bash
# Stop a server started by scripts/pg-start.sh DIR (fast shutdown) and wait for it.
set -u
dir=${1:?usage: pg-stop.sh DIR}
# shellcheck source=scripts/lib/server.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"
stop_pid_file "$dir/postgres.pid" INT 5
