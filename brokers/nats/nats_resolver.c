/* The broker's connections to nats-server and its system services: the account resolver and JetStream cleanup. */
#include "nats_resolver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How long the broker's own users (system account, cleanup) are valid: one callback's worth. */
#define NT_ADMIN_USER_TTL_S 600

static natsStatus nt_jwt_cb(char **jwt, char **err_text, void *closure)
{
	(void)err_text;
	*jwt = strdup(((struct nt_conn *)closure)->jwt);
	return *jwt ? NATS_OK : NATS_NO_MEMORY;
}

static natsStatus nt_sig_cb(char **err_text, unsigned char **sig, int *len, const char *nonce, void *closure)
{
	(void)err_text;
	if (!(*sig = malloc(64)))
		return NATS_NO_MEMORY;
	*len = 64;
	if (nt_sign(&((struct nt_conn *)closure)->user, nonce, strlen(nonce), *sig) != 0)
		return NATS_ERR;
	((struct nt_conn *)closure)->zero_sig = (*sig)[0] == 0;
	return NATS_OK;
}

/* A NATS failure: a timeout, or the server's or the library's reason (never a secret). */
int nt_fail(struct nt_conn *c, natsStatus s, const char *what)
{
	const char *why = nats_GetLastError(NULL);

	if (s == NATS_TIMEOUT)
		return osb_errbuf_set(c->err, OSB_ETIMEOUT, "NATS at %s did not answer %s in time", c->where, what);
	return osb_errbuf_set(c->err, OSB_EBACKEND, "NATS at %s: %s failed: %s", c->where, what,
			      why && why[0] ? why : natsStatus_GetText(s));
}

void nt_close(struct nt_conn *c)
{
	natsConnection_Destroy(c->nc);
	c->nc = NULL;
	free(c->jwt);
	c->jwt = NULL;
	nt_key_wipe(&c->user);
}

/*
 * Connect to t as the user whose JWT and key c holds. libnats 3.4 leaves the
 * signature out of CONNECT when its first byte is zero (its base64 encoder
 * takes the bytes for an empty string), so the server refuses one login in
 * 256: such a login is tried again, with the new nonce a new connection gets.
 */
int nt_connect(struct nt_conn *c, const osb_target *t, int timeout_ms, osb_errbuf *err)
{
	natsOptions *opts = NULL;
	char url[300];
	natsStatus s;

	c->err = err;
	c->timeout_ms = timeout_ms;
	snprintf(c->where, sizeof(c->where), strchr(t->host, ':') ? "[%s]:%d" : "%s:%d", t->host, t->port);
	snprintf(url, sizeof(url), "%s://%s", t->tls ? "tls" : "nats", c->where);
	if ((s = natsOptions_Create(&opts)) == NATS_OK && (s = natsOptions_SetURL(opts, url)) == NATS_OK &&
	    (s = natsOptions_SetTimeout(opts, timeout_ms)) == NATS_OK &&
	    (s = natsOptions_SetAllowReconnect(opts, false)) == NATS_OK &&
	    (s = natsOptions_SetName(opts, "osb-nats-broker")) == NATS_OK &&
	    (s = natsOptions_SetUserCredentialsCallbacks(opts, nt_jwt_cb, c, nt_sig_cb, c)) == NATS_OK &&
	    (!t->tls || (s = natsOptions_SetSecure(opts, true)) == NATS_OK) &&
	    (!t->tls || !t->ca_file || (s = natsOptions_LoadCATrustedCertificates(opts, t->ca_file)) == NATS_OK)) {
		for (int attempt = 0; attempt < 4; attempt++) {
			c->zero_sig = 0;
			if ((s = natsConnection_Connect(&c->nc, opts)) == NATS_OK || !c->zero_sig)
				break;
		}
	}
	natsOptions_Destroy(opts);
	return s == NATS_OK ? 0 : nt_fail(c, s, "connect");
}

/* Connect to t as a fresh, short-lived user of the account of key `account` (the system's, or an instance's). */
int nt_open(struct nt_conn *c, const osb_target *t, const nt_key *account, int timeout_ms, osb_errbuf *err)
{
	char upub[NT_PUBLIC_SIZE];
	cJSON *claims = cJSON_Parse("{\"name\":\"osb-broker\",\"nats\":{\"pub\":{},\"sub\":{},\"subs\":-1,"
				    "\"data\":-1,\"payload\":-1,\"type\":\"user\",\"version\":2}}");

	if (!claims || nt_key_random(&c->user, 'U') != 0 || nt_key_public(&c->user, upub) != 0 ||
	    !cJSON_AddStringToObject(claims, "sub", upub) ||
	    !cJSON_AddNumberToObject(claims, "exp", (double)(time(NULL) + NT_ADMIN_USER_TTL_S)) ||
	    !(c->jwt = nt_jwt_sign(account, claims))) {
		cJSON_Delete(claims);
		return osb_errbuf_set(err, OSB_ENOMEM, "cannot make the broker's NATS user");
	}
	cJSON_Delete(claims);
	return nt_connect(c, t, timeout_ms, err);
}

static int nt_request(struct nt_conn *c, const char *subject, const char *data, cJSON **reply)
{
	natsMsg *msg = NULL;
	natsStatus s = natsConnection_Request(&msg, c->nc, subject, data, data ? (int)strlen(data) : 0, c->timeout_ms);
	const char *text;
	int len;

	*reply = NULL;
	if (s != NATS_OK)
		return nt_fail(c, s, subject);
	text = natsMsg_GetData(msg);
	len = natsMsg_GetDataLength(msg);
	if (!(*reply = len > 0 && text[0] == '{' ? cJSON_ParseWithLength(text, (size_t)len) : cJSON_CreateObject()) ||
	    (text[0] != '{' && !cJSON_AddStringToObject(*reply, "raw", len > 0 ? text : ""))) {
		cJSON_Delete(*reply);
		*reply = NULL;
		natsMsg_Destroy(msg);
		return osb_errbuf_set(c->err, OSB_EBACKEND, "NATS at %s: unreadable reply to %s", c->where, subject);
	}
	natsMsg_Destroy(msg);
	return 0;
}

/* A resolver request answered {"data": {"code": 200, ...}} or {"error": {"description": ...}}. */
static int nt_resolver(struct nt_conn *c, const char *subject, const char *token)
{
	cJSON *reply = NULL, *error;
	int rc = nt_request(c, subject, token, &reply);

	if (rc == 0 && (error = cJSON_GetObjectItemCaseSensitive(reply, "error")) != NULL) {
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(error, "description");
		rc = osb_errbuf_set(c->err, OSB_EBACKEND, "NATS at %s refused %s: %.300s", c->where, subject,
				    cJSON_IsString(d) ? d->valuestring : "no reason given");
	} else if (rc == 0 && !cJSON_GetObjectItemCaseSensitive(reply, "data")) {
		rc = osb_errbuf_set(c->err, OSB_EBACKEND,
				    "NATS at %s has no account resolver that takes updates "
				    "(resolver: {type: full, allow_delete: true})",
				    c->where);
	}
	cJSON_Delete(reply);
	return rc;
}

/* -- accounts on the resolver --------------------------------------------- */

/* Every account public key the resolver holds. */
int nt_accounts(struct nt_conn *c, cJSON **list)
{
	cJSON *reply = NULL;
	int rc = nt_request(c, "$SYS.REQ.CLAIMS.LIST", NULL, &reply);

	*list = NULL;
	if (rc == 0 && !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(reply, "data")))
		rc = osb_errbuf_set(c->err, OSB_EBACKEND, "NATS at %s has no full account resolver to list", c->where);
	if (rc == 0)
		*list = cJSON_DetachItemFromObjectCaseSensitive(reply, "data");
	cJSON_Delete(reply);
	return rc;
}

/* The claims of account `pub` as the resolver holds them. */
int nt_lookup(struct nt_conn *c, const char *pub, cJSON **claims)
{
	char subject[128];
	cJSON *reply = NULL, *raw;
	int rc;

	*claims = NULL;
	snprintf(subject, sizeof(subject), "$SYS.REQ.ACCOUNT.%s.CLAIMS.LOOKUP", pub);
	if ((rc = nt_request(c, subject, NULL, &reply)) == 0 &&
	    (!cJSON_IsString(raw = cJSON_GetObjectItemCaseSensitive(reply, "raw")) ||
	     !(*claims = nt_jwt_claims(raw->valuestring))))
		rc = osb_errbuf_set(c->err, OSB_EBACKEND, "NATS at %s: unreadable JWT of account %s", c->where, pub);
	cJSON_Delete(reply);
	return rc;
}

/* The account's claims (NULL when the resolver does not hold it): the list first, since the resolver
 * never answers a lookup of a missing account. */
int nt_account_get(struct nt_conn *c, const char *pub, cJSON **claims)
{
	cJSON *list = NULL, *e;
	int rc = nt_accounts(c, &list), found = 0;

	*claims = NULL;
	cJSON_ArrayForEach(e, list) found |= cJSON_IsString(e) && strcmp(e->valuestring, pub) == 0;
	cJSON_Delete(list);
	return rc == 0 && found ? nt_lookup(c, pub, claims) : rc;
}

int nt_account_put(struct nt_conn *c, const nt_key *op, cJSON *claims)
{
	char *token = nt_jwt_sign(op, claims);
	int rc = token ? nt_resolver(c, "$SYS.REQ.CLAIMS.UPDATE", token)
		       : osb_errbuf_set(c->err, OSB_ENOMEM, "cannot sign the account's JWT");

	free(token);
	return rc;
}

/* The JetStream streams of an account, deleted as a user of that account (deleting the account keeps its files). */
int nt_drop_streams(const osb_target *t, const nt_key *acc, int timeout_ms, osb_errbuf *err, int *dropped)
{
	struct nt_conn c = { 0 };
	jsStreamNamesList *names = NULL;
	jsOptions jo;
	jsErrCode jerr = 0;
	jsCtx *js = NULL;
	natsStatus s;
	int rc;

	*dropped = 0;
	if ((rc = nt_open(&c, t, acc, timeout_ms, err)) < 0) {
		nt_close(&c);
		return rc;
	}
	jsOptions_Init(&jo);
	jo.Wait = timeout_ms;
	if ((s = natsConnection_JetStream(&js, c.nc, &jo)) == NATS_OK) {
		s = js_StreamNames(&names, js, NULL, &jerr);
		/* An account without JetStream (or without streams) has nothing to drop. */
		if (s == NATS_NOT_FOUND || jerr == JSNotEnabledForAccountErr || jerr == JSNotEnabledErr)
			s = NATS_OK;
		for (int i = 0; s == NATS_OK && names && i < names->Count; i++)
			if ((s = js_DeleteStream(js, names->List[i], NULL, &jerr)) == NATS_OK)
				(*dropped)++;
	}
	if (s != NATS_OK)
		rc = nt_fail(&c, s, "deleting the account's streams");
	jsStreamNamesList_Destroy(names);
	jsCtx_Destroy(js);
	nt_close(&c);
	return rc;
}

/* Delete account `pub` with a request the operator signs; the server disconnects the account's clients
 * and keeps the JWT as <key>.jwt.deleted. */
int nt_account_delete(struct nt_conn *c, const nt_key *op, const char *pub)
{
	char op_pub[NT_PUBLIC_SIZE];
	cJSON *claims = cJSON_CreateObject(), *nats, *accounts;
	char *token = NULL;
	int rc = 0;

	if (nt_key_public(op, op_pub) != 0 || !claims || !cJSON_AddStringToObject(claims, "sub", op_pub) ||
	    !(nats = cJSON_AddObjectToObject(claims, "nats")) ||
	    !(accounts = cJSON_AddArrayToObject(nats, "accounts")) ||
	    !cJSON_AddItemToArray(accounts, cJSON_CreateString(pub)) || !(token = nt_jwt_sign(op, claims)))
		rc = osb_errbuf_set(c->err, OSB_ENOMEM, "cannot sign the account's deletion");
	else
		rc = nt_resolver(c, "$SYS.REQ.CLAIMS.DELETE", token);
	free(token);
	cJSON_Delete(claims);
	return rc;
}
