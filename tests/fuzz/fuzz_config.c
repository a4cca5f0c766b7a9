/* libFuzzer target: load a broker configuration file. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("config", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		char path[64], err[512];
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		osb_config *c = NULL;
		if (osb_config_load(&c, path, err, sizeof err) == 0)
			osb_config_free(c);
	}
	close(fd);
	return 0;
}
