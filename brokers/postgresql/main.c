/* Entry point of osb-postgresql-broker: the core's main with the PostgreSQL driver. */
#include <osb/server.h>

#include "postgresql_driver.h"

int main(int argc, char **argv)
{
	return osb_main(argc, argv, osb_postgresql_driver());
}
