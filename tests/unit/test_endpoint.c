/* test_endpoint.c — two spellings of one database compare equal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "endpoint.h"

#include <stdlib.h>
#include <string.h>

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

/* conninfo is refused, the reason contains text, and neither the reason
 * nor the hint quotes "Sentinel" (the passwords below). */
static void expect_problem(const char *conninfo, const char *text)
{
    char why[400];
    const char *hint = NULL;
    int rc = endpoint_check(conninfo, why, sizeof why, &hint);
    if (rc == 0 || strstr(why, text) == NULL)
        print_error("%s: rc=%d why=%s\n", conninfo, rc, rc ? why : "-");
    assert_int_equal(rc, -1);
    assert_non_null(strstr(why, text));
    assert_non_null(hint);
    assert_null(strstr(why, "Sentinel"));
    assert_null(strstr(hint, "Sentinel"));
}

static void expect_accepted(const char *conninfo)
{
    char why[400];
    const char *hint = NULL;
    int rc = endpoint_check(conninfo, why, sizeof why, &hint);
    if (rc != 0)
        print_error("%s: refused: %s\n", conninfo, why);
    assert_int_equal(rc, 0);
}

/* libpq would fill these in from PGDATABASE or the user name. */
static void endpoint_check__names_no_database(void **state)
{
    (void)state;
    const char *none[] = {
        "postgresql://", "postgresql://:@/", "postgres://db.example.com", "postgresql://h/",
        "postgresql://h/db?dbname=", "dbname=", "host=db.example.com user=app", "",
        "postgresql://app:Sentinel@h:5432",
    };
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
        expect_problem(none[i], "does not name a database");
}

/* A password with an unencoded '/', '?', '#' or '@': libpq (or RFC 3986)
 * would take part of it for the host, the port or the database. */
static void endpoint_check__ambiguous_urls(void **state)
{
    (void)state;
    const char *ambiguous[] = {
        "postgresql://app:Senti/nel@db.example.com/prod",          /* host app, port Senti */
        "postgresql://app:Senti#nel@db.example.com/prod",
        "postgresql://app:Senti?nel@db.example.com/prod",
        "postgresql://app:Senti@nel@db.example.com/prod",          /* host nel@db... */
        "postgres://app:Sen/ti?nel@db.example.com/prod",
        "postgresql://ap/p@db.example.com/prod",                   /* in the user name */
        "postgresql://db.example.com/prod#Sentinel",
        "postgresql://db.example.com?user=app:Sentinel@x",
    };
    for (size_t i = 0; i < sizeof ambiguous / sizeof ambiguous[0]; i++)
        expect_problem(ambiguous[i], "is ambiguous");
    expect_problem("postgresql://app:Sentinel%zz@h/db", "is not a valid PostgreSQL URL");
}

static void endpoint_check__accepted(void **state)
{
    (void)state;
    const char *fine[] = {
        "postgresql://app:p%2Fw%23x%3Fy%40z@db.example.com:5432/prod",
        "postgresql://db.example.com/prod?user=me@corp",           /* an '@' in a value */
        "postgresql://u@h1:5432,h2:5433/prod?target_session_attrs=read-write",
        "postgresql:///prod?host=/var/run/postgresql",
        "host=db.example.com dbname=prod password='pa/ss#x?y@z'",  /* key=value reads one way */
        "postgresql://h/?dbname=prod",
    };
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++)
        expect_accepted(fine[i]);
}

/* A service= entry names its database in the service file, where libpq
 * looks (PGSERVICEFILE here); what the url leaves out comes from there. */
static void endpoint_check__service_entries(void **state)
{
    (void)state;
    setenv("PGSERVICEFILE", "data/endpoint/pg_service.conf", 1);
    setenv("PGSYSCONFDIR", "data/endpoint/nowhere", 1);
    expect_accepted("service=withdb");
    expect_accepted("service=nodb dbname=prod");
    expect_problem("service=nodb", "does not name a database (nor does its service)");
    expect_problem("service=withdb_", "names service 'withdb_', which no service file defines");
    struct endpoint e = parse("service=withdb");
    assert_string_equal(e.host, "db.example.com");
    assert_string_equal(e.port, "6543");
    assert_string_equal(e.dbname, "svcdb");                     /* the first dbname= counts */
    struct endpoint own = parse("postgresql://h/mine?service=withdb&port=7000");
    assert_string_equal(own.host, "h");                          /* the url's own come first */
    assert_string_equal(own.port, "7000");
    assert_string_equal(own.dbname, "mine");
    unsetenv("PGSERVICEFILE");
    unsetenv("PGSYSCONFDIR");
}

/* PGHOST, PGPORT, PGDATABASE and PGUSER never fill in what a url leaves out. */
static void endpoint_parse__environment_never_fills_in(void **state)
{
    (void)state;
    setenv("PGHOST", "elsewhere.example.com", 1);
    setenv("PGPORT", "6000", 1);
    setenv("PGDATABASE", "otherdb", 1);
    setenv("PGUSER", "someone_else", 1);
    struct endpoint a = parse("postgresql:///prod");
    assert_string_equal(a.host, "local");
    assert_string_equal(a.port, "5432");
    struct endpoint b = parse("host=db.example.com");
    assert_string_not_equal(b.dbname, "otherdb");
    assert_string_not_equal(b.dbname, "someone_else");
    unsetenv("PGHOST"), unsetenv("PGPORT"), unsetenv("PGDATABASE"), unsetenv("PGUSER");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(endpoint_same__spellings_of_one_database),
        cmocka_unit_test(endpoint_same__different_databases),
        cmocka_unit_test(endpoint_parse__defaults),
        cmocka_unit_test(endpoint_check__names_no_database),
        cmocka_unit_test(endpoint_check__ambiguous_urls),
        cmocka_unit_test(endpoint_check__accepted),
        cmocka_unit_test(endpoint_check__service_entries),
        cmocka_unit_test(endpoint_parse__environment_never_fills_in),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
