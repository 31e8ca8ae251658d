/* test_endpoint.c — two spellings of one database compare equal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "endpoint.h"

#include <stdlib.h>

static struct endpoint parse(const char *conninfo)
{
    struct endpoint e;
    assert_int_equal(endpoint_parse(conninfo, &e), 0);
    return e;
}

static void endpoint_same__spellings_of_one_database(void **state)
{
    (void)state;
    unsetenv("PGHOST"), unsetenv("PGPORT"), unsetenv("PGDATABASE");
    struct endpoint a = parse("postgresql://app:secret@localhost:5432/stallplass_prod");
    const char *same[] = {
        "postgresql://other@127.0.0.1/stallplass_prod",
        "postgres://[::1]:5432/stallplass_prod?sslmode=require",
        "host=localhost port=5432 dbname=stallplass_prod user=x",
        "postgresql:///stallplass_prod",                        /* the default socket */
        "postgresql:///stallplass_prod?host=/var/run/postgresql",
        "dbname=stallplass_prod host=/tmp/pg",
        "postgresql://LOCALHOST/stallplass_prod",
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        struct endpoint b = parse(same[i]);
        if (!endpoint_same(&a, &b))
            print_error("not the same: %s (%s %s %s)\n", same[i], b.host, b.port, b.dbname);
        assert_true(endpoint_same(&a, &b));
    }
}

static void endpoint_same__different_databases(void **state)
{
    (void)state;
    struct endpoint a = parse("postgresql://db.example.com/stallplass_prod");
    const char *different[] = {
        "postgresql://db.example.com/stallplass_staging",
        "postgresql://db.example.com:6432/stallplass_prod",
        "postgresql://staging.example.com/stallplass_prod",
        "postgresql://localhost/stallplass_prod",
    };
    for (size_t i = 0; i < sizeof different / sizeof different[0]; i++) {
        struct endpoint b = parse(different[i]);
        assert_false(endpoint_same(&a, &b));
    }
    struct endpoint upper = parse("postgresql://DB.Example.COM/stallplass_prod");
    assert_true(endpoint_same(&a, &upper));                     /* host names ignore case */
}

static void endpoint_parse__defaults(void **state)
{
    (void)state;
    struct endpoint e = parse("host=db.example.com user=app");
    assert_string_equal(e.port, "5432");
    assert_string_equal(e.dbname, "app");                       /* libpq's default: the user */
    struct endpoint bad;
    assert_int_equal(endpoint_parse("postgresql://u:p%zz@h/db", &bad), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(endpoint_same__spellings_of_one_database),
        cmocka_unit_test(endpoint_same__different_databases),
        cmocka_unit_test(endpoint_parse__defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
