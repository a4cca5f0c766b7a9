/*
 * A NATS client for the tests (osb-nats-client), with libnats and a binding's creds file:
 *   client kv-put CREDS URL BUCKET KEY VALUE [create]   JetStream key-value write (create: make the bucket)
 *   client kv-get CREDS URL BUCKET KEY                   prints the value
 *   client pub CREDS URL SUBJECT TEXT                    publishes and flushes
 *   client req CREDS URL SUBJECT TEXT                    prints the reply of a request
 *   client sub CREDS URL SUBJECT SECONDS [MARKER]        prints the first message (exit 1 when none came)
 *   client hold CREDS URL SECONDS MARKER                 stays connected (touching MARKER once in) until the
 *                                                        server closes the connection (exit 0) or SECONDS pass (exit 1)
 * Exit 0 on success; errors go to stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nats/nats.h>

static int failed(const char *what, natsStatus s)
{
	const char *why = nats_GetLastError(NULL);
	fprintf(stderr, "%s: %s\n", what, why && why[0] ? why : natsStatus_GetText(s));
	return 1;
}

static void touch(const char *path)
{
	FILE *f = fopen(path, "w");
	if (f)
		fclose(f);
}

static natsStatus connect_as(natsConnection **nc, const char *creds, const char *url, int timeout_ms)
{
	natsOptions *opts = NULL;
	natsStatus s;

	if ((s = natsOptions_Create(&opts)) == NATS_OK && (s = natsOptions_SetURL(opts, url)) == NATS_OK &&
	    (s = natsOptions_SetTimeout(opts, timeout_ms)) == NATS_OK &&
	    (s = natsOptions_SetAllowReconnect(opts, false)) == NATS_OK &&
	    (s = natsOptions_SetUserCredentialsFromFiles(opts, creds, NULL)) == NATS_OK) {
		/* libnats 3.4 drops a nonce signature whose first byte is zero (one login in 256 is refused):
		 * a refused login is tried again, with a new nonce, a few times. */
		for (int attempt = 0; attempt < 4; attempt++)
			if ((s = natsConnection_Connect(nc, opts)) != NATS_NOT_PERMITTED &&
			    s != NATS_CONNECTION_AUTH_FAILED)
				break;
	}
	natsOptions_Destroy(opts);
	return s;
}

static int kv(natsConnection *nc, int argc, char **argv)
{
	int put = strcmp(argv[1], "kv-put") == 0;
	kvStore *store = NULL;
	kvEntry *entry = NULL;
	jsCtx *js = NULL;
	uint64_t rev = 0;
	natsStatus s;

	if (argc < (put ? 7 : 6))
		return 2;
	if ((s = natsConnection_JetStream(&js, nc, NULL)) != NATS_OK)
		return failed("jetstream", s);
	s = js_KeyValue(&store, js, argv[4]);
	if (s == NATS_NOT_FOUND && put && argc > 7 && strcmp(argv[7], "create") == 0) {
		kvConfig cfg;
		kvConfig_Init(&cfg);
		cfg.Bucket = argv[4];
		cfg.MaxBytes = 1 << 20;
		s = js_CreateKeyValue(&store, js, &cfg);
	}
	if (s != NATS_OK)
		return failed("bucket", s);
	if (put)
		s = kvStore_PutString(&rev, store, argv[5], argv[6]);
	else if ((s = kvStore_Get(&entry, store, argv[5])) == NATS_OK)
		printf("%s", kvEntry_ValueString(entry));
	kvEntry_Destroy(entry);
	kvStore_Destroy(store);
	jsCtx_Destroy(js);
	return s == NATS_OK ? 0 : failed(put ? "put" : "get", s);
}

int main(int argc, char **argv)
{
	natsConnection *nc = NULL;
	natsSubscription *sub = NULL;
	natsMsg *msg = NULL;
	natsStatus s;
	int rc = 1;

	if (argc < 4) {
		fprintf(stderr, "usage: client kv-put|kv-get|pub|sub|hold CREDS URL ...\n");
		return 2;
	}
	if ((s = connect_as(&nc, argv[2], argv[3], 5000)) != NATS_OK)
		return failed("connect", s);
	if (strncmp(argv[1], "kv-", 3) == 0) {
		rc = kv(nc, argc, argv);
	} else if (strcmp(argv[1], "pub") == 0 && argc >= 6) {
		const char *server_error = NULL;

		if ((s = natsConnection_PublishString(nc, argv[4], argv[5])) == NATS_OK &&
		    (s = natsConnection_FlushTimeout(nc, 5000)) == NATS_OK) {
			rc = 0;
		} else {
			/* The server's -ERR text ("Maximum Payload Violation") when it closed the connection. */
			natsConnection_GetLastError(nc, &server_error);
			fprintf(stderr, "server: %s\n", server_error ? server_error : "-");
			rc = failed("publish", s);
		}
	} else if (strcmp(argv[1], "req") == 0 && argc >= 6) {
		if ((s = natsConnection_RequestString(&msg, nc, argv[4], argv[5], 5000)) == NATS_OK) {
			printf("%.*s", natsMsg_GetDataLength(msg), natsMsg_GetData(msg));
			rc = 0;
		} else {
			rc = failed("request", s);
		}
	} else if (strcmp(argv[1], "sub") == 0 && argc >= 6) {
		if ((s = natsConnection_SubscribeSync(&sub, nc, argv[4])) != NATS_OK ||
		    (s = natsConnection_FlushTimeout(nc, 5000)) != NATS_OK) {
			rc = failed("subscribe", s);
		} else {
			if (argc > 6)
				touch(argv[6]);
			if ((s = natsSubscription_NextMsg(&msg, sub, atoi(argv[5]) * 1000LL)) == NATS_OK) {
				printf("%.*s", natsMsg_GetDataLength(msg), natsMsg_GetData(msg));
				rc = 0;
			}
		}
	} else if (strcmp(argv[1], "hold") == 0 && argc >= 6) {
		if ((s = natsConnection_SubscribeSync(&sub, nc, "held")) != NATS_OK ||
		    (s = natsConnection_FlushTimeout(nc, 5000)) != NATS_OK) {
			rc = failed("subscribe", s);
		} else {
			touch(argv[5]);
			for (int i = 0; i < atoi(argv[4]) * 20 && rc; i++) {
				if (natsConnection_IsClosed(nc))
					rc = 0;
				else
					usleep(50000);
			}
		}
	} else {
		fprintf(stderr, "client: unknown command %s\n", argv[1]);
		rc = 2;
	}
	natsMsg_Destroy(msg);
	natsSubscription_Destroy(sub);
	natsConnection_Destroy(nc);
	nats_Close();
	return rc;
}
