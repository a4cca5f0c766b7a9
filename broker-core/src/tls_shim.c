/* Loading the embedded civetweb/OpenSSL 3 compatibility library before civetweb starts TLS. */
#include "tls_shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "osb/log.h"

extern const unsigned char osb_tls_shim_bytes[];
extern const size_t osb_tls_shim_bytes_size;

int osb_tls_shim_load(const char *dir)
{
	char path[4096], tmp[4200];
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		osb_log(OSB_LOG_ERROR, "http.tls", "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof path, "%s/libssl.so", dir);
	snprintf(tmp, sizeof tmp, "%s.%ld", path, (long)getpid());
	/* Written afresh each start and renamed into place, so a stale or tampered copy never loads. */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0500);
	if (fd < 0 || write(fd, osb_tls_shim_bytes, osb_tls_shim_bytes_size) != (ssize_t)osb_tls_shim_bytes_size) {
		osb_log(OSB_LOG_ERROR, "http.tls", "cannot write %s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		osb_log(OSB_LOG_ERROR, "http.tls", "cannot rename %s: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (!dlopen(path, RTLD_NOW | RTLD_GLOBAL)) {
		osb_log(OSB_LOG_ERROR, "http.tls", "cannot load the TLS compatibility library: %s", dlerror());
		return -1;
	}
	return 0;
}
