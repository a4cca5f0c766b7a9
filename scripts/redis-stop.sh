#!/usr/bin/env bash
# Stop a server started by scripts/redis-start.sh DIR (SIGTERM) and wait for it.
set -u
dir=${1:?usage: redis-stop.sh DIR}
# shellcheck source=scripts/lib/server.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"
stop_pid_file "$dir/redis.pid" TERM 5
