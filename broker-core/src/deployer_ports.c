/* The deployer's ports: which of the range are free, given to each instance under the deployer's lock. */
#include "deployer_internal.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "osb/errors.h"
#include "osb/file.h"
#include "osb/log.h"

/* Nothing listens on it (SO_REUSEADDR, as servers bind, so TIME_WAIT does not count). */
static int port_bindable(int port)
{
	const in_addr_t addrs[2] = { htonl(INADDR_LOOPBACK), htonl(INADDR_ANY) };
	for (int i = 0; i < 2; i++) {
		int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in sa;
		if (fd < 0)
			return 0;
		memset(&sa, 0, sizeof sa);
		sa.sin_family = AF_INET;
		sa.sin_port = htons((uint16_t)port);
		sa.sin_addr.s_addr = addrs[i];
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		int ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
		close(fd);
		if (!ok)
			return 0;
	}
	return 1;
}

/* A dead server's port may be held a moment longer by its exiting threads. */
int osb_deployer__port_bindable_within(int port, int ms)
{
	long long deadline = osb_clock_ms() + ms;
	while (!port_bindable(port)) {
		if (osb_clock_ms() >= deadline)
			return 0;
		osb_deployer__sleep_ms(POLL_MS);
	}
	return 1;
}

/*
 * Caller holds d->lock (and writes its record before releasing it, so two
 * instances never get the same port). Ports of other records stay taken even
 * when their server is stopped: they come back to the same port.
 * @return a port, or 0 when the range is full.
 */
int osb_deployer__allocate_port(osb_deployer *d, int basefd, const char *self, int prefer)
{
	size_t span = (size_t)(d->port_last - d->port_first + 1);
	unsigned char *used = calloc(span, 1);
	int port = 0;
	if (!used)
		return 0;
	int fd = dup(basefd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir && fd >= 0)
		close(fd);
	struct dirent *e;
	while (dir && (e = readdir(dir)) != NULL) {
		record r;
		if (!osb_name_is_derived(e->d_name) || strcmp(e->d_name, self) == 0)
			continue;
		int ifd = osb_deployer__open_instance(basefd, e->d_name, 0);
		if (ifd < 0)
			continue;
		if (osb_deployer__record_read(ifd, e->d_name, &r) == 0) {
			if (r.port >= d->port_first && r.port <= d->port_last)
				used[r.port - d->port_first] = 1;
			osb_deployer__record_free(&r);
		}
		close(ifd);
	}
	if (dir)
		closedir(dir);
	if (prefer >= d->port_first && prefer <= d->port_last && !used[prefer - d->port_first] && port_bindable(prefer))
		port = prefer;
	for (int p = d->port_first; !port && p <= d->port_last; p++)
		if (!used[p - d->port_first] && port_bindable(p))
			port = p;
	free(used);
	return port;
}
