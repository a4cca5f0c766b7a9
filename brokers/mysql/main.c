/* Entry point of osb-mysql-broker: the core's main with the MySQL driver. */
#include <osb/server.h>

#include "mysql_driver.h"

int main(int argc, char **argv)
{
	return osb_main(argc, argv, osb_mysql_driver());
}
