/* test_digest.c — when the history digest vouches for a folder, and how a
 * digest row is read (digest_from_result, without a server: a result made
 * with PQmakeEmptyPGresult has no rows, the case of no digest at all). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "digest.h"
#include "scan.h"

static const struct digest VALID = {.valid = true, .applied = 3, .failed = 0, .key = 0x8000000000000001ULL};
static const struct scan_summary FOLDER = {.count = 3, .key = 0x8000000000000001ULL, .clean = true};

static void digest_matches__the_same_folder(void **state)
{
    (void)state;
    assert_true(digest_matches(&VALID, &FOLDER));
}

static void digest_matches__any_difference_is_no(void **state)
{
    (void)state;
    struct digest d = VALID;
    d.valid = false;                             /* the history changed since it was computed */
    assert_false(digest_matches(&d, &FOLDER));
    d = VALID;
    d.failed = 1;                                /* a failed migration is never up to date */
    assert_false(digest_matches(&d, &FOLDER));
    d = VALID;
    d.applied = 4;                               /* one applied that the folder lacks */
    assert_false(digest_matches(&d, &FOLDER));
    d = VALID;
    d.key ^= 1;                                  /* an edited or renamed migration */
    assert_false(digest_matches(&d, &FOLDER));
    struct scan_summary f = FOLDER;
    f.clean = false;                             /* a folder with a problem or an odd name */
    assert_false(digest_matches(&VALID, &f));
    f = FOLDER;
    f.count = 0;
    struct digest empty = {.valid = true};
    assert_false(digest_matches(&empty, &f));    /* nothing to vouch for */
}

static void digest_from_result__no_row_is_no_digest(void **state)
{
    (void)state;
    PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    struct digest d = VALID;
    assert_false(digest_from_result(res, &d));
    assert_false(d.valid);
    PQclear(res);
    res = PQmakeEmptyPGresult(NULL, PGRES_FATAL_ERROR);
    assert_false(digest_from_result(res, &d));
    PQclear(res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(digest_matches__the_same_folder),
        cmocka_unit_test(digest_matches__any_difference_is_no),
        cmocka_unit_test(digest_from_result__no_row_is_no_digest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
