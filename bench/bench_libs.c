/* osb-bench-libs: the memory floor of a process that only loads the given shared libraries (dlopen) and idles. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	char line[256];
	long rss = -1, anon = -1;
	FILE *f;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: osb-bench-libs LIBRARY...\nPrints: libs VMRSS_KB RSSANON_KB\n");
		return 2;
	}
	for (i = 1; i < argc; i++) {
		/* RTLD_NOW: resolve every symbol as a program linked against it does at start. */
		if (!dlopen(argv[i], RTLD_NOW | RTLD_GLOBAL)) {
			fprintf(stderr, "osb-bench-libs: %s\n", dlerror());
			return 1;
		}
	}
	f = fopen("/proc/self/status", "r");
	if (!f)
		return 1;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "VmRSS: %ld", &rss);
		sscanf(line, "RssAnon: %ld", &anon);
	}
	fclose(f);
	printf("libs %ld %ld\n", rss, anon);
	return 0;
}
