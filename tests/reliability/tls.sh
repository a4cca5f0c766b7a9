#!/usr/bin/env bash
# TLS test: the broker's listener with a self-signed certificate. A verifying client gets through,
# plain HTTP and old protocol versions do not, and a whole lifecycle works over HTTPS.
. "$(dirname "$0")/lib.sh"
rel_init tls

bport=$("$ROOT/scripts/free-port.sh")
B=https://127.0.0.1:$bport
cfg=$WORK/broker.json
log=$WORK/broker.log

step "a self-signed certificate for 127.0.0.1"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 2 \
	-subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" >"$WORK/openssl.log" 2>&1 ||
	{ cat "$WORK/openssl.log"; fail "openssl could not make a certificate"; rel_finish; }
chmod 600 "$WORK/key.pem"
pg_up_free "$WORK/pg"
pgport=$PG_PORT
write_config "$cfg" "$bport" "$WORK/data" "$pgport" \
	".tls = {certificate: \"$WORK/cert.pem\", private_key: \"$WORK/key.pem\"}"
broker_start "$cfg" "$log" "$B"

step "plain HTTP to the TLS port"
rc=0
code=$(curl -s --max-time 5 -o "$WORK/plain" -w '%{http_code}' -u "broker:$BROKER_PW" -H 'X-Broker-API-Version: 2.17' \
	"http://127.0.0.1:$bport/v2/catalog") || rc=$?
check "plain HTTP gets no answer (curl exit $rc, status $code)" [ "$rc" != 0 -o "$code" = 000 -o "$code" = 400 ]
check "... and never the catalog" sh -c "! grep -q '$SERVICE_ID' '$WORK/plain' 2>/dev/null"
check "the broker is still running after the plain request" kill -0 "$BROKER_PID"

step "a verifying client"
code=$(curl -s --cacert "$WORK/cert.pem" -o "$WORK/body" -w '%{http_code}' -u "broker:$BROKER_PW" \
	-H 'X-Broker-API-Version: 2.17' "$B/v2/catalog") || code=000
check "GET /v2/catalog over TLS with --cacert: 200 (got $code)" [ "$code" = 200 ]
sleep 0.2
if ! kill -0 "$BROKER_PID" 2>/dev/null; then
	rc=0
	wait "$BROKER_PID" || rc=$?
	fail "the broker died (exit $rc) on its first TLS connection; its log:"
	grep -v '"event":"request"' "$log" | head -n 40
	rel_finish
fi
check "... and it is the catalog" [ "$(jq -r '.services[0].id' "$WORK/body" 2>/dev/null)" = "$SERVICE_ID" ]
code=$(curl -s -o /dev/null -w '%{http_code}' -u "broker:$BROKER_PW" -H 'X-Broker-API-Version: 2.17' "$B/v2/catalog") || code=000
check "a client that does not trust the certificate is refused by its own verification (got $code)" [ "$code" = 000 ]
code=$(curl -s --cacert "$WORK/cert.pem" -o /dev/null -w '%{http_code}' -u "broker:wrong-password" \
	-H 'X-Broker-API-Version: 2.17' "$B/v2/catalog") || code=000
check "a wrong password over TLS: 401 (got $code)" [ "$code" = 401 ]

step "protocol versions (openssl s_client)"
out=$(openssl s_client -connect "127.0.0.1:$bport" -servername 127.0.0.1 -CAfile "$WORK/cert.pem" </dev/null 2>&1)
proto=$(grep -oE 'Protocol *: *TLSv[0-9.]+|New, TLSv[0-9.]+' <<<"$out" | grep -oE 'TLSv[0-9.]+' | head -n 1)
check "s_client negotiates $proto (TLS 1.2 or newer)" [ "$proto" = TLSv1.2 -o "$proto" = TLSv1.3 ]
check "s_client verifies the chain (Verify return code: 0)" grep -q 'Verify return code: 0 (ok)' <<<"$out"
out=$(openssl s_client -connect "127.0.0.1:$bport" -tls1_2 </dev/null 2>&1)
check "TLS 1.2 is accepted" grep -qE 'Protocol *: *TLSv1.2|New, TLSv1.2' <<<"$out"
for old in tls1 tls1_1; do
	if openssl s_client -help 2>&1 | grep -q -- "-$old "; then
		# SECLEVEL=0 lets this client offer the old version, so a refusal is the server's
		if openssl s_client -connect "127.0.0.1:$bport" "-$old" -cipher 'DEFAULT:@SECLEVEL=0' </dev/null >"$WORK/old.out" 2>&1 &&
			grep -qE 'New, TLSv1(\.1)?, Cipher is [^(]' "$WORK/old.out"; then
			fail "the broker accepted -$old: $(grep -E 'Protocol|New,' "$WORK/old.out" | head -n 2 | tr '\n' ' ')"
		else
			pass "the broker refuses -$old"
		fi
	fi
done

step "a lifecycle over HTTPS"
i=$(new_id)
b=$(new_id)
osb PUT "$B/v2/service_instances/$i" "$(provision_body "$PLAN_SMALL")" --cacert "$WORK/cert.pem"
check "provision over TLS: 201 (got $STATUS)" [ "$STATUS" = 201 ]
osb PUT "$B/v2/service_instances/$i/service_bindings/$b" "$(bind_body "$PLAN_SMALL")" --cacert "$WORK/cert.pem"
check "bind over TLS: 201 (got $STATUS)" [ "$STATUS" = 201 ]
out=$(psql -X -q -At -d "$(jq -r .credentials.uri <<<"$BODY")" -c "SELECT 1" 2>&1)
check "its credentials work" [ "$out" = 1 ]
osb DELETE "$B/v2/service_instances/$i/service_bindings/$b?service_id=$SERVICE_ID&plan_id=$PLAN_SMALL" "" --cacert "$WORK/cert.pem"
check "unbind over TLS: 200 (got $STATUS)" [ "$STATUS" = 200 ]
osb DELETE "$B/v2/service_instances/$i?service_id=$SERVICE_ID&plan_id=$PLAN_SMALL" "" --cacert "$WORK/cert.pem"
check "deprovision over TLS: 200 (got $STATUS)" [ "$STATUS" = 200 ]

step "the key on disk"
pem=$WORK/data/tls-listener.pem
if [ -f "$pem" ]; then
	check "data_dir/tls-listener.pem (it holds the private key) is mode 600 ($(stat -c %a "$pem"))" [ "$(stat -c %a "$pem")" = 600 ]
fi
check "the private key is not in the broker's log" sh -c "! grep -qF '$(sed -n 2p "$WORK/key.pem")' '$log'"

broker_stop_clean "$BROKER_PID" "$log" "tls"
rel_finish
