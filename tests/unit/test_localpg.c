/* test_localpg.c — url = local:NAME: the names it takes and the URL it
 * becomes (nothing here starts a server). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "localpg.h"

#include <stdlib.h>
#include <string.h>

static void localpg_is_local__only_the_scheme(void **state)
{
    (void)state;
    assert_true(localpg_is_local("local:stallplass_dev"));
    assert_true(localpg_is_local("local:"));
    assert_false(localpg_is_local("postgresql://localhost/local"));
    assert_false(localpg_is_local("Local:dev"));
    assert_false(localpg_is_local(NULL));
}

static void localpg_name_problem__what_a_name_may_be(void **state)
{
    (void)state;
    char name[80] = "local:";
    assert_null(localpg_name_problem("local:stallplass_dev"));
    assert_null(localpg_name_problem("local:Dev-1.x"));
    assert_string_equal(localpg_name_problem("local:"), "write local:DATABASE, e.g. local:stallplass_dev");
    const char *bad[] = {"local:a/b", "local:a?b", "local:a&b", "local:a=b", "local:a b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_non_null(localpg_name_problem(bad[i]));
    memset(name + 6, 'd', 63);
    name[69] = '\0';
    assert_null(localpg_name_problem(name));                         /* 63 bytes: NAMEDATALEN - 1 */
    strcat(name, "d");
    assert_string_equal(localpg_name_problem(name),
                        "a database name is at most 63 bytes (PostgreSQL's NAMEDATALEN)");
}

static void localpg_dir__under_the_project(void **state)
{
    (void)state;
    char dir[128];
    localpg_dir("/home/me/project", dir, sizeof dir);
    assert_string_equal(dir, "/home/me/project/.stallmig/pg");
}

static void localpg_socket_url__percent_encoded(void **state)
{
    (void)state;
    char *url = localpg_socket_url("/home/me/project/.stallmig/pg", "stallplass_dev");
    assert_string_equal(url, "postgresql:///stallplass_dev?host=/home/me/project/.stallmig/pg&user=postgres");
    free(url);
    url = localpg_socket_url("/tmp/my proj&x/.stallmig/pg", "d\xc3\xa6v");
    assert_string_equal(url, "postgresql:///d%C3%A6v?host=/tmp/my%20proj%26x/.stallmig/pg&user=postgres");
    free(url);
}

static void localpg_url__a_bad_name_starts_nothing(void **state)
{
    (void)state;
    char err[300];
    assert_null(localpg_url("/nonexistent/project", "local:a/b", err, sizeof err));
    assert_string_equal(err, "'local:a/b': write local:DATABASE, e.g. local:stallplass_dev");
}

static void localpg_running__never_made_is_stopped(void **state)
{
    (void)state;
    char err[300];
    assert_int_equal(localpg_running("/nonexistent/project", err, sizeof err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(localpg_is_local__only_the_scheme),
        cmocka_unit_test(localpg_name_problem__what_a_name_may_be),
        cmocka_unit_test(localpg_dir__under_the_project),
        cmocka_unit_test(localpg_socket_url__percent_encoded),
        cmocka_unit_test(localpg_url__a_bad_name_starts_nothing),
        cmocka_unit_test(localpg_running__never_made_is_stopped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
