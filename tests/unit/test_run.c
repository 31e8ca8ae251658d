/* test_run.c — a workflow option as given on the command line, read by
 * the host's gates (not from a table a workflow can change). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "run.h"

static void run_option__both_spellings(void **state)
{
    (void)state;
    char *argv[] = {"--backup", "a.dump", "--steps=2", "positional", NULL};
    struct run run = {.argc = 4, .argv = argv};
    assert_string_equal(run_option(&run, "backup"), "a.dump");
    assert_string_equal(run_option(&run, "steps"), "2");
    assert_null(run_option(&run, "positional"));
    assert_null(run_option(&run, "absent"));
}

static void run_option__a_flag_has_no_value(void **state)
{
    (void)state;
    char *argv[] = {"--replace", "--backup", "--backup-dir", "x", "--empty=", NULL};
    struct run run = {.argc = 5, .argv = argv};
    assert_null(run_option(&run, "replace"));             /* followed by another option */
    assert_null(run_option(&run, "backup"));              /* --backup-dir is not --backup */
    assert_string_equal(run_option(&run, "backup-dir"), "x");
    assert_string_equal(run_option(&run, "empty"), "");
    assert_null(run_option(&run, "back"));                /* no prefixes */
}

static void run_option__last_word_and_no_run(void **state)
{
    (void)state;
    char *argv[] = {"--backup", NULL};
    struct run run = {.argc = 1, .argv = argv};
    assert_null(run_option(&run, "backup"));
    assert_null(run_option(NULL, "backup"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(run_option__both_spellings),
        cmocka_unit_test(run_option__a_flag_has_no_value),
        cmocka_unit_test(run_option__last_word_and_no_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
