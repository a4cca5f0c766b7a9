#!/usr/bin/env bash
# Start a throw-away MariaDB server on 127.0.0.1 for tests and demos.
# Usage: scripts/mariadb-start.sh DIR PORT ADMIN_PASSWORD
# Data goes under DIR/data, the server's PID into DIR/mysqld.pid (written by
# this script, so it is there at once); the admin is root@127.0.0.1 and
# root@localhost with ADMIN_PASSWORD. Waits until the server answers; fails
# loudly otherwise. Stop with scripts/mariadb-stop.sh DIR.
set -euo pipefail
dir=${1:?usage: mariadb-start.sh DIR PORT ADMIN_PASSWORD}
port=${2:?port}
password=${3:?admin password}
mariadbd=$(command -v mariadbd || echo /usr/sbin/mariadbd)
if [ ! -x "$mariadbd" ] || ! command -v mariadb-install-db >/dev/null || ! command -v mariadb >/dev/null; then
	echo "mariadb-start: MariaDB not found (apt-get install mariadb-server mariadb-client)" >&2
	exit 1
fi
# The password goes into SQL text below.
case $password in
*"'"* | *\\*) echo "mariadb-start: the admin password may not contain quotes or backslashes" >&2; exit 1 ;;
esac

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if [ ! -d "$dir/data/mysql" ]; then
	umask 077
	# Run once by mariadb-install-db in bootstrap mode: a password for root, no anonymous users.
	cat >"$dir/init.sql" <<SQL
FLUSH PRIVILEGES;
DELETE FROM mysql.global_priv WHERE User = '' OR (User = 'root' AND Host NOT IN ('localhost', '127.0.0.1'));
FLUSH PRIVILEGES;
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
ALTER USER 'root'@'localhost', 'root'@'127.0.0.1' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
SQL
	mariadb-install-db --no-defaults --datadir="$dir/data" --user=root --auth-root-authentication-method=normal \
		--skip-test-db --skip-name-resolve --extra-file="$dir/init.sql" >"$dir/install.log" 2>&1 ||
		{ rm -f "$dir/init.sql"; cat "$dir/install.log" >&2; exit 1; }
	rm -f "$dir/init.sql"
fi

"$mariadbd" --no-defaults --datadir="$dir/data" --user=root --bind-address=127.0.0.1 --port="$port" \
	--socket="$dir/mysqld.sock" --pid-file="$dir/mysqld-server.pid" --log-error="$dir/error.log" \
	--skip-name-resolve --innodb-buffer-pool-size=64M --max-connections=500 \
	>"$dir/server.log" 2>&1 &
pid=$!
echo "$pid" >"$dir/mysqld.pid"
for _ in $(seq 1 300); do
	# ping says "alive" even when the login is refused: run a statement instead.
	if MYSQL_PWD=$password mariadb --no-defaults --connect-timeout=2 -h 127.0.0.1 -P "$port" -u root -e 'SELECT 1' >/dev/null 2>&1; then
		echo "mariadb-start: MariaDB ready on 127.0.0.1:$port (pid $pid, data $dir)"
		exit 0
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
echo "mariadb-start: MariaDB did not start on port $port; log follows" >&2
cat "$dir/error.log" "$dir/server.log" >&2 2>/dev/null || true
kill -KILL "$pid" 2>/dev/null || true
exit 1
