/* Entry point of osb-rabbitmq-broker: the core's main with the RabbitMQ driver. */
#include <osb/server.h>

#include "rabbitmq_driver.h"

int main(int argc, char **argv)
{
	return osb_main(argc, argv, osb_rabbitmq_driver());
}
