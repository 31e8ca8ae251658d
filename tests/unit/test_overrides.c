/* test_overrides.c — the named overrides: each needs --reason, and what is
 * recorded says which were used. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "overrides.h"

#include <string.h>

static void override_option__names_and_keys(void **state)
{
    (void)state;
    assert_string_equal(override_option(OVERRIDE_SKIP_PROMOTION_CHECK), "--skip-promotion-check");
    assert_string_equal(override_option(OVERRIDE_NO_BACKUP), "--no-backup");
    assert_string_equal(override_option(OVERRIDE_ACCEPT_DATA_LOSS), "--accept-data-loss");
    assert_string_equal(override_option(OVERRIDE_RESTAMP_FROM), "--restamp-from");
    assert_string_equal(override_option(OVERRIDE_ALLOW_ADHOC_SQL), "--allow-adhoc-sql");
    assert_string_equal(override_option(OVERRIDE_COUNT), "?");
    assert_string_equal(override_key(OVERRIDE_NO_BACKUP), "no-backup");
}

static void overrides_check__none_given_needs_no_reason(void **state)
{
    (void)state;
    struct overrides ov = {0};
    char err[200] = "";
    assert_int_equal(overrides_check(&ov, err, sizeof err), 0);
}

static void overrides_check__given_without_a_reason(void **state)
{
    (void)state;
    struct overrides ov = {0};
    char err[200] = "";
    ov.given[OVERRIDE_NO_BACKUP] = true;
    assert_int_equal(overrides_check(&ov, err, sizeof err), -1);
    assert_string_equal(err, "--no-backup needs --reason TEXT (it is recorded with the change)");
    ov.reason = " \t\n";                            /* blank is no reason */
    assert_int_equal(overrides_check(&ov, err, sizeof err), -1);
    ov.reason = "the disk is full";
    assert_int_equal(overrides_check(&ov, err, sizeof err), 0);
}

static void overrides_describe__used_or_given(void **state)
{
    (void)state;
    struct overrides ov = {0};
    char out[300];
    ov.given[OVERRIDE_NO_BACKUP] = ov.given[OVERRIDE_RESTAMP_FROM] = true;
    ov.given[OVERRIDE_ACCEPT_DATA_LOSS] = true;
    ov.used[OVERRIDE_RESTAMP_FROM] = ov.used[OVERRIDE_NO_BACKUP] = true;
    ov.restamp_from = "prod";
    ov.reason = "nightly copy";
    overrides_describe(&ov, true, out, sizeof out);
    assert_string_equal(out, "--no-backup, --restamp-from prod (reason: nightly copy)");
    overrides_describe(&ov, false, out, sizeof out);
    assert_string_equal(out, "--no-backup, --accept-data-loss, --restamp-from prod (reason: nightly copy)");
}

static void overrides_describe__none_is_empty_and_short_buffers_hold(void **state)
{
    (void)state;
    struct overrides ov = {0};
    char out[12] = "x";
    overrides_describe(&ov, false, out, sizeof out);
    assert_string_equal(out, "");
    ov.given[OVERRIDE_SKIP_PROMOTION_CHECK] = true;
    overrides_describe(&ov, false, out, sizeof out);
    assert_int_equal(strlen(out), sizeof out - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(override_option__names_and_keys),
        cmocka_unit_test(overrides_check__none_given_needs_no_reason),
        cmocka_unit_test(overrides_check__given_without_a_reason),
        cmocka_unit_test(overrides_describe__used_or_given),
        cmocka_unit_test(overrides_describe__none_is_empty_and_short_buffers_hold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
