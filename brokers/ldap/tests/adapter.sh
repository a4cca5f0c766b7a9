# Contract-test adapter of the LDAP broker (tests/contract/contract.sh): an OpenLDAP slapd
# (brokers/ldap/server.sh), the credentials used with the ldap-utils tools, tenants seen as the
# admin sees them.
# shellcheck shell=bash disable=SC2034
ADAPTER_PLAN=standard
ADAPTER_MORE_PLANS=dedicated
ADAPTER_TOOLS="slapd slapadd slappasswd ldapsearch ldapadd ldapmodify"
ADAPTER_CREDENTIAL_KEYS="host hostname port username password uri base_dn bind_dn"
ADAPTER_NO_SESSION_END="slapd has no operation that closes another client's connection; the ACL admits a service \
account only while its entry exists, so an unbound account's open connection is refused at its next operation \
(tests/ldap.sh shows it)"
_ld_base=dc=osb,dc=test

adapter_server_start() { "$ROOT/brokers/ldap/server.sh" start "$1" "$2" "$3" >/dev/null; }
adapter_server_stop() { "$ROOT/brokers/ldap/server.sh" stop "$1"; }
adapter_driver_config() {
	jq -cn --argjson port "$1" --arg pw "$2" --arg base "$_ld_base" \
		'{port: $port, admin_user: "cn=admin,\($base)", admin_password: $pw, base_dn: $base}'
}

# _ld TOOL CREDS SPACE ARGS...: an ldap-utils tool with CREDS's login on SPACE's server.
_ld() {
	local tool=$1 creds=$2 space=$3
	shift 3
	timeout 20 "$tool" -x -o nettimeout=5 -H "ldap://$(jq -r '"\(.host):\(.port)"' <<<"$space")" \
		-D "$(jq -r .bind_dn <<<"$creds")" -w "$(jq -r .password <<<"$creds")" "$@"
}
_ld_admin() {
	timeout 20 "$1" -x -o nettimeout=5 -H "ldap://127.0.0.1:$SERVER_PORT" -D "cn=admin,$_ld_base" -w "$SERVER_SECRET" \
		"${@:2}"
}
# adapter_access CREDS SPACE KEY [VALUE]: the description of entry cn=KEY in SPACE's OU.
adapter_access() {
	local dn
	dn="cn=$3,$(jq -r .base_dn <<<"$2")"
	if [ $# -ge 4 ]; then
		printf 'dn: %s\nchangetype: modify\nreplace: description\ndescription: %s\n' "$dn" "$4" |
			_ld ldapmodify "$1" "$2" >/dev/null 2>&1 ||
			printf 'dn: %s\nobjectClass: organizationalRole\ncn: %s\ndescription: %s\n' "$dn" "$3" "$4" |
			_ld ldapadd "$1" "$2"
	else
		_ld ldapsearch "$1" "$2" -LLL -s base -b "$dn" description | sed -n 's/^description: //p'
		[ "${PIPESTATUS[0]}" = 0 ]
	fi
}
adapter_tenants() {
	{
		_ld_admin ldapsearch -LLL -s one -b "$_ld_base" '(objectClass=organizationalUnit)' ou | sed -n 's/^ou: //p'
		_ld_admin ldapsearch -LLL -b "$_ld_base" '(uid=osb_*)' uid | sed -n 's/^uid: //p'
	} | grep '^osb_' | sort -u || true
}
adapter_orphan() { printf 'dn: ou=%s,%s\nobjectClass: organizationalUnit\nou: %s\n' "$1" "$_ld_base" "$1" | _ld_admin ldapadd >/dev/null; }
