#!/bin/sh
# Deployer test fixture: a "server" that writes its environment and arguments to its directory, then waits.
# Usage: env-server.sh DIR PORT (env.txt appears last: it is what the test's ready() waits for)
echo "env-server: started on port $2"
echo "$@" > "$1/args.txt"
env > "$1/env.tmp" && mv "$1/env.tmp" "$1/env.txt"
trap 'kill "$child" 2>/dev/null; exit 0' TERM
sleep 300 &
child=$!
wait "$child"
