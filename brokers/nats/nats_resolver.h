/* The broker's connections to nats-server (libnats, as a user it mints) and the requests of its system services. */
#ifndef OSB_NATS_RESOLVER_H
#define OSB_NATS_RESOLVER_H

#include <cjson/cJSON.h>
#include <nats/nats.h>

#include <osb.h>

#include "nats_jwt.h"

/* One connection of the broker, as a short-lived user of an account it holds the key of. */
struct nt_conn {
	natsConnection *nc;
	osb_errbuf *err;
	int timeout_ms;
	char where[80];
	char *jwt;    /* the user's JWT, for the connect callback */
	nt_key user;  /* the user's key, to sign the server's nonce */
	int zero_sig; /* the last signature began with a zero byte (see nt_connect) */
};

/** Connect to t as the user whose JWT and key c holds (again when libnats dropped the signature). */
int nt_connect(struct nt_conn *c, const osb_target *t, int timeout_ms, osb_errbuf *err);

/** Connect to t as a fresh, short-lived user of the account whose key is `account`. */
int nt_open(struct nt_conn *c, const osb_target *t, const nt_key *account, int timeout_ms, osb_errbuf *err);

/** Close the connection and wipe the user's key; safe on a zeroed or failed connection. */
void nt_close(struct nt_conn *c);

/** A NATS failure as OSB_ETIMEOUT or OSB_EBACKEND with the library's or server's reason. */
int nt_fail(struct nt_conn *c, natsStatus s, const char *what);

/** Every account public key the resolver holds ($SYS.REQ.CLAIMS.LIST). */
int nt_accounts(struct nt_conn *c, cJSON **list);

/** The claims of account `pub` as the resolver holds them. */
int nt_lookup(struct nt_conn *c, const char *pub, cJSON **claims);

/** The account's claims, or NULL when the resolver does not hold it. */
int nt_account_get(struct nt_conn *c, const char *pub, cJSON **claims);

/** Sign the claims as the operator and push them ($SYS.REQ.CLAIMS.UPDATE). */
int nt_account_put(struct nt_conn *c, const nt_key *op, cJSON *claims);

/** Delete account `pub` ($SYS.REQ.CLAIMS.DELETE, signed by the operator). */
int nt_account_delete(struct nt_conn *c, const nt_key *op, const char *pub);

/** Delete the JetStream streams of the account whose key is `acc`, as a user of it. */
int nt_drop_streams(const osb_target *t, const nt_key *acc, int timeout_ms, osb_errbuf *err, int *dropped);

#endif
