#!/usr/bin/env bash
# A throw-away Git smart-HTTP server for tests and demos: Apache httpd with git-http-backend on
# 127.0.0.1:PORT, configured as brokers/git/README.md describes for operators.
# Usage: brokers/git/server.sh start DIR PORT [SECRET]   (Apache has no admin login: SECRET is unused)
#        brokers/git/server.sh stop DIR
# DIR holds httpd.conf, run/, error.log and the tree the broker writes (driver.root = DIR/tree):
# tree/repos (the repositories), tree/htpasswd, tree/groups. A restart with the same DIR keeps the
# tree. As root, Apache's workers run as www-data: the tree belongs to that group (setgid), so the
# broker's files (mode 0640) and repositories (shared with the group) are theirs to read and write.
set -euo pipefail
# shellcheck source=scripts/lib/server.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/server.sh"
mode=${1:?usage: server.sh start DIR PORT [SECRET] | stop DIR}
dir=${2:?server directory}

stop() { stop_pid_file "$dir/server.pid"; }

case $mode in
stop)
	stop
	exit 0
	;;
start) ;;
*)
	echo "server.sh: unknown mode $mode" >&2
	exit 2
	;;
esac
port=${3:?port}
for tool in apache2 git; do
	command -v "$tool" >/dev/null ||
		{ echo "git server.sh: $tool not found (apt-get install apache2 git)" >&2; exit 1; }
done
backend=$(git --exec-path)/git-http-backend
modules=/usr/lib/apache2/modules
[ -x "$backend" ] || { echo "git server.sh: $backend not found" >&2; exit 1; }

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
chmod 711 "$dir"
mkdir -p "$dir/run" "$dir/tree/repos"
user_lines=
if [ "$(id -u)" = 0 ]; then
	chgrp www-data "$dir/tree" "$dir/tree/repos"
	user_lines=$'User www-data\nGroup www-data'
fi
chmod 2750 "$dir/tree" "$dir/tree/repos"

cat >"$dir/httpd.conf" <<CONF
# Written by brokers/git/server.sh
ServerRoot $dir
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile $dir/run/httpd.pid
DefaultRuntimeDir $dir/run
Mutex file:$dir/run default
ErrorLog $dir/error.log
LogLevel warn
$user_lines
LoadModule mpm_event_module $modules/mod_mpm_event.so
LoadModule authz_core_module $modules/mod_authz_core.so
LoadModule authn_core_module $modules/mod_authn_core.so
LoadModule authn_file_module $modules/mod_authn_file.so
LoadModule auth_basic_module $modules/mod_auth_basic.so
LoadModule authz_user_module $modules/mod_authz_user.so
LoadModule authz_groupfile_module $modules/mod_authz_groupfile.so
LoadModule alias_module $modules/mod_alias.so
LoadModule cgid_module $modules/mod_cgid.so
LoadModule env_module $modules/mod_env.so
ScriptSock $dir/run/cgid.sock
StartServers 1
ServerLimit 4
ThreadsPerChild 16
MaxRequestWorkers 64
MinSpareThreads 4
MaxSpareThreads 32

# Everything is refused but the repositories' smart-HTTP paths.
<Location />
	Require all denied
</Location>
ScriptAlias /git/ $backend/
SetEnv GIT_PROJECT_ROOT $dir/tree/repos
SetEnv GIT_HTTP_EXPORT_ALL 1
# The repositories belong to the broker's user, git-http-backend runs as Apache's.
SetEnv GIT_CONFIG_COUNT 1
SetEnv GIT_CONFIG_KEY_0 safe.directory
SetEnv GIT_CONFIG_VALUE_0 *
# One rule for every repository: the login must be in the group named after the repository
# (read-write), or in <repository>.ro for anything but a push. Apache reads htpasswd and groups
# on every request, so the broker's changes apply at once without a reload.
<LocationMatch "^/git/(?<repo>osb_[0-9a-f]{20})\\.git/">
	AuthType Basic
	AuthName "git"
	AuthBasicProvider file
	AuthUserFile $dir/tree/htpasswd
	AuthGroupFile $dir/tree/groups
	<RequireAny>
		Require group %{env:MATCH_REPO}
		<RequireAll>
			Require group %{env:MATCH_REPO}.ro
			Require expr "! (%{QUERY_STRING} =~ /service=git-receive-pack/ || \\
				%{REQUEST_URI} =~ m#/git-receive-pack\$#)"
		</RequireAll>
	</RequireAny>
</LocationMatch>
CONF

apache2 -t -f "$dir/httpd.conf" >"$dir/configtest.log" 2>&1 || { cat "$dir/configtest.log" >&2; exit 1; }
stop
apache2 -f "$dir/httpd.conf" -DFOREGROUND >>"$dir/error.log" 2>&1 &
pid=$!
echo "$pid" >"$dir/server.pid"
for _ in $(seq 1 200); do
	code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/git/") || code=000
	if [ "$code" != 000 ]; then
		echo "git server.sh: Apache ready on 127.0.0.1:$port (pid $pid, tree $dir/tree)"
		exit 0
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
echo "git server.sh: Apache did not start on port $port; its log follows" >&2
cat "$dir/error.log" >&2
kill "$pid" 2>/dev/null || true
exit 1
