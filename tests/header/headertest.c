/* Compiles the umbrella header alone, with -std=c11 -pedantic, to keep the public surface clean. */
#include <osb.h>

int osb_headertest_anchor(void);
int osb_headertest_anchor(void)
{
	return OSB_DRIVER_ABI_VERSION > 0 && OSB_NAME_SIZE == 25 ? 0 : 1;
}

/* OSB_DRIVER_DEFINE must expand to a clean definition, semicolon included, under -pedantic. */
static const struct osb_driver headertest_driver = { .abi_version = OSB_DRIVER_INIT, .name = "headertest" };
OSB_DRIVER_DEFINE(headertest, headertest_driver);
