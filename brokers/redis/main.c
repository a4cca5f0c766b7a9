/* Entry point of osb-redis-broker: the core's main with the Redis driver. */
#include <osb/server.h>

#include "redis_driver.h"

int main(int argc, char **argv)
{
	return osb_main(argc, argv, osb_redis_driver());
}
