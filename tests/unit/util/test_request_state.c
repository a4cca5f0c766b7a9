/* Unit tests of osb_request_save_instance_str() and osb_request_save_binding_*() (request.c). */
#include <cjson/cJSON.h>

#include "osb/errors.h"
#include "osb/request.h"
#include "request_internal.h"
#include "unit.h"

/* The state as compact JSON text (owned by the caller), or NULL when none is set. */
static char *text(const cJSON *state)
{
	return state ? cJSON_PrintUnformatted(state) : NULL;
}

static void check_json(const cJSON *state, const char *want)
{
	char *got = text(state);
	CHECK_STR(got ? got : "(none)", want);
	cJSON_free(got);
}

static void test_keys_add_up(void)
{
	osb_request *req = osb_request__new();

	CHECK_INT(req != NULL, 1);
	CHECK_INT(osb_request_save_binding_str(req, "username", "osb_0123456789abcdef0123"), 0);
	CHECK_INT(osb_request_save_binding_bool(req, "read_only", 1), 0);
	check_json(req->new_binding_state, "{\"username\":\"osb_0123456789abcdef0123\",\"read_only\":true}");
	/* a key saved again is replaced, not repeated */
	CHECK_INT(osb_request_save_binding_bool(req, "read_only", 0), 0);
	check_json(req->new_binding_state, "{\"username\":\"osb_0123456789abcdef0123\",\"read_only\":false}");
	CHECK_INT(osb_request_save_instance_str(req, "znode", "/osb/osb_0123456789abcdef0123"), 0);
	check_json(req->new_instance_state, "{\"znode\":\"/osb/osb_0123456789abcdef0123\"}");
	CHECK_INT(req->err.code, 0);
	osb_request__free(req);
}

static void test_after_a_whole_state(void)
{
	osb_request *req = osb_request__new();

	/* a key joins what osb_request_set_binding_state() set; a state that is not an object is replaced */
	osb_request_set_binding_state(req, cJSON_Parse("{\"a\":1}"));
	CHECK_INT(osb_request_save_binding_str(req, "b", "x"), 0);
	check_json(req->new_binding_state, "{\"a\":1,\"b\":\"x\"}");
	osb_request_set_instance_state(req, cJSON_CreateArray());
	CHECK_INT(osb_request_save_instance_str(req, "c", "y"), 0);
	check_json(req->new_instance_state, "{\"c\":\"y\"}");
	osb_request__free(req);
}

static void test_null_value_is_refused(void)
{
	osb_request *req = osb_request__new();

	/* cJSON_CreateString(NULL) gives NULL: reported as out of memory, nothing saved */
	CHECK_INT(osb_request_save_binding_str(req, "username", NULL), OSB_ENOMEM);
	CHECK_INT(req->err.code, OSB_ENOMEM);
	osb_request__free(req);
}

OSB_TEST_MAIN(OSB_TEST_CASE(test_keys_add_up), OSB_TEST_CASE(test_after_a_whole_state),
	      OSB_TEST_CASE(test_null_value_is_refused))
