/* test_dbswap.c — the names a swap gives the new and the kept database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dbswap.h"

#include <string.h>

static const time_t WHEN = 1714557600;      /* 2024-05-01T10:00:00Z */

static void dbswap_name__tag_and_utc_time(void **state)
{
    (void)state;
    char out[DBSWAP_NAME_SIZE];
    dbswap_name("stallplass_prod", "replaced", WHEN, out);
    assert_string_equal(out, "stallplass_prod_replaced_20240501100000");
}

static void dbswap_name__long_name_shortened_to_63_bytes(void **state)
{
    (void)state;
    char db[64], out[DBSWAP_NAME_SIZE];
    memset(db, 'd', 63);
    db[63] = '\0';
    dbswap_name(db, "restoring", WHEN, out);
    assert_int_equal(strlen(out), DBSWAP_NAME_MAX);
    assert_string_equal(out + 63 - strlen("_restoring_20240501100000"), "_restoring_20240501100000");
}

static void dbswap_name__never_cuts_a_character(void **state)
{
    (void)state;
    char db[80] = "", out[DBSWAP_NAME_SIZE];
    for (int i = 0; i < 20; i++)
        strcat(db, "\xc3\xa6");                 /* æ: two bytes each */
    dbswap_name(db, "replaced", WHEN, out);     /* 63 - 24 = 39 bytes of room: 19 characters */
    assert_int_equal(strlen(out), 38 + strlen("_replaced_20240501100000"));
    assert_memory_equal(out, db, 38);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dbswap_name__tag_and_utc_time),
        cmocka_unit_test(dbswap_name__long_name_shortened_to_63_bytes),
        cmocka_unit_test(dbswap_name__never_cuts_a_character),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
