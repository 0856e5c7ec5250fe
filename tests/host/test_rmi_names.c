/* SPDX-License-Identifier: MIT */
/*
 * rk_rmi_command_name() and rk_rmi_status_name() name every RMI command and
 * status of the ABI description (abi/rmm-2.0.json), because they are
 * generated from it (abi/gen.py, rmi_names_gen.c) rather than listed by hand.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "realmkit/host.h"
#include "rk_test.h"

static json_t *load_abi(void)
{
	const char *src = getenv("RK_SOURCE_DIR");
	char path[4096];
	json_error_t err;
	json_t *abi;

	snprintf(path, sizeof(path), "%s/abi/rmm-2.0.json", src ? src : ".");
	abi = json_load_file(path, 0, &err);
	if (!abi)
		fail_msg("%s: %s", path, err.text);
	return abi;
}

static uint64_t num(json_t *v)
{
	return json_is_string(v) ? strtoull(json_string_value(v), NULL, 0) : (uint64_t)json_integer_value(v);
}

static void test_every_command_named(void **state)
{
	json_t *abi = load_abi(), *cmds = json_object_get(json_object_get(abi, "rmi"), "commands"), *c;
	size_t i, n = 0;

	json_array_foreach(cmds, i, c)
	{
		char want[96];
		uint64_t fid = SMC_FID_BASE | num(json_object_get(c, "fnum"));

		snprintf(want, sizeof(want), "RMI_%s", json_string_value(json_object_get(c, "name")));
		assert_string_equal(rk_rmi_command_name(fid), want);
		/* the FID with the SVE hint bit is not a command name of its own */
		assert_string_equal(rk_rmi_command_name(fid | SMC_FID_SVE_HINT), "RMI_?");
		n++;
	}
	assert_true(n > 80); /* the whole 2.0-bet1 command set, not a sample */
	assert_string_equal(rk_rmi_command_name(RMI_FID_REALM_CREATE), "RMI_REALM_CREATE");
	assert_string_equal(rk_rmi_command_name(SMC_FID_BASE | (RMI_FNUM_MAX + 1)), "RMI_?");
	assert_string_equal(rk_rmi_command_name(0), "RMI_?");
	json_decref(abi);
}

static void test_every_status_named(void **state)
{
	json_t *abi = load_abi(), *sts = json_object_get(json_object_get(abi, "rmi"), "status"), *st;
	size_t i;

	json_array_foreach(sts, i, st)
	{
		uint64_t v = num(json_object_get(st, "value"));

		assert_string_equal(rk_rmi_status_name(v), json_string_value(json_object_get(st, "name")));
		/* the index byte does not change the name */
		assert_string_equal(rk_rmi_status_name(v | (2u << RMI_RESULT_INDEX_SHIFT)),
				    json_string_value(json_object_get(st, "name")));
	}
	assert_int_equal(i, RMI_STATUS_COUNT);
	assert_string_equal(rk_rmi_status_name(SMC_UNKNOWN), "SMC_UNKNOWN");
	assert_string_equal(rk_rmi_status_name(RMI_STATUS_COUNT), "?");
	json_decref(abi);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_command_named),
		cmocka_unit_test(test_every_status_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
