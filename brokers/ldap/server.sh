#!/usr/bin/env bash
# A throw-away OpenLDAP slapd 2.5 on 127.0.0.1 for tests and demos, configured as the LDAP broker
# expects an operator's server to be (README.md, "The server"): suffix dc=osb,dc=test, rootdn
# cn=admin,dc=osb,dc=test with the admin password (hashed), and the one set of regex ACLs that
# confines every tenant OU to its own service accounts, loaded into cn=config.
# Usage: server.sh start DIR PORT ADMIN_PASSWORD    (data, config and log under DIR)
#        server.sh stop DIR
# Waits until the admin can bind; fails loudly with slapd's log otherwise.
set -euo pipefail
# shellcheck source=scripts/lib/server.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/server.sh"
mode=${1:?usage: server.sh start DIR PORT ADMIN_PASSWORD | stop DIR}
dir=${2:?server directory}
base=dc=osb,dc=test
admin=cn=admin,$base

stop() { stop_pid_file "$dir/slapd.pid" INT; }

if [ "$mode" = stop ]; then
	stop
	exit 0
fi
[ "$mode" = start ] || { echo "server.sh: unknown mode $mode" >&2; exit 2; }
port=${3:?port}
password=${4:?admin password}
slapd=$(command -v slapd || echo /usr/sbin/slapd)
for tool in "$slapd" slapadd slappasswd ldapwhoami; do
	command -v "$tool" >/dev/null || { echo "ldap server.sh: $tool not found (apt-get install slapd ldap-utils)" >&2; exit 1; }
done

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
umask 077
printf '%s' "$password" >"$dir/admin.pw"
if [ ! -d "$dir/slapd.d" ]; then
	# The base DN as a regular expression (its dots and other specials escaped) for the ACLs.
	re=$(printf '%s' "$base" | sed 's/[].[^$*+?(){}|\\]/\\&/g')
	sa="uid=osb_[0-9a-f]{20},ou=osb_[0-9a-f]{20},$re"
	mkdir -p "$dir/slapd.d" "$dir/data"
	cat >"$dir/config.ldif" <<LDIF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $dir/slapd.server.pid

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcAccess: {0}to dn.base="" by * read
olcAccess: {1}to dn.base="cn=subschema" by * read

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: $base
olcRootDN: $admin
olcRootPW: $(slappasswd -h '{SSHA}' -T "$dir/admin.pw")
olcDbDirectory: $dir/data
olcDbMaxSize: 268435456
olcDbIndex: objectClass eq
olcDbIndex: ou,uid eq
olcLimits: {0}dn.regex="^$sa\$" size=1000 time=10
olcAccess: {0}to dn.regex="^$sa\$" attrs=userPassword by anonymous auth by * none
olcAccess: {1}to dn.regex="^$sa\$" by self read by * none
olcAccess: {2}to dn.regex="^(.+,)?ou=(osb_[0-9a-f]{20}),$re\$" attrs=userPassword
  by dn.regex="^uid=osb_[0-9a-f]{20},ou=\$2,$re\$" set="user/uid" write
  by self write by anonymous auth by * none
olcAccess: {3}to dn.regex="^(.+,)?ou=(osb_[0-9a-f]{20}),$re\$"
  by dn.regex="^uid=osb_[0-9a-f]{20},ou=\$2,$re\$" set="user/uid" write
  by self read by * none
olcAccess: {4}to dn.base="$base" by users search by * none
olcAccess: {5}to * by * none
LDIF
	slapadd -n 0 -F "$dir/slapd.d" -l "$dir/config.ldif" >"$dir/slapadd.log" 2>&1 ||
		{ cat "$dir/slapadd.log" >&2; rm -rf "$dir/slapd.d"; exit 1; }
	printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\no: osb\ndc: osb\n' "$base" |
		slapadd -n 1 -F "$dir/slapd.d" >>"$dir/slapadd.log" 2>&1 || { cat "$dir/slapadd.log" >&2; exit 1; }
fi

# -d 0: stay in the foreground (its PID is $!), log only what slapd always logs.
"$slapd" -d 0 -F "$dir/slapd.d" -h "ldap://127.0.0.1:$port/" >>"$dir/slapd.log" 2>&1 &
pid=$!
echo "$pid" >"$dir/slapd.pid"
for _ in $(seq 1 200); do
	if ldapwhoami -x -o nettimeout=2 -H "ldap://127.0.0.1:$port/" -D "$admin" -y "$dir/admin.pw" >/dev/null 2>&1; then
		echo "ldap server.sh: slapd ready on 127.0.0.1:$port (pid $pid, base $base, dir $dir)"
		exit 0
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
echo "ldap server.sh: slapd did not start on port $port; log follows" >&2
cat "$dir/slapd.log" >&2
stop
exit 1
