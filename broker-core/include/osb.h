/** @file osb.h  Everything a broker binary needs from the osb core library. */
#ifndef OSB_H
#define OSB_H

#include "osb/common.h"
#include "osb/errors.h"
#include "osb/log.h"
#include "osb/request.h"
#include "osb/driver.h"
#include "osb/driver_config.h"
#include "osb/names.h"
#include "osb/uri.h"
#include "osb/utf8.h"
#include "osb/secret.h"
#include "osb/sql.h"
#include "osb/server.h"
#include "osb/dedicated.h"
#include "osb/target.h"
#include "osb/credentials.h"
#include "osb/buf.h"
#include "osb/file.h"
#include "osb/exec.h"
#include "osb/http_client.h"
#include "osb/jsonschema.h"
#include "osb/marketplace.h"

#endif
