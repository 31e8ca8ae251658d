/* test_pg.c — how the host opens connections and describes their failures,
 * without a server: a failed connection still says what it was asked for
 * (PQconninfo), and a socket folder that does not exist fails at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "msg.h"
#include "pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOWHERE "/nonexistent/stallmig-test-socket"

/* The value of keyword in pg's connection options, or NULL. */
static char *option(PGconn *pg, const char *keyword)
{
    static char value[512];
    char *found = NULL;
    PQconninfoOption *info = PQconninfo(pg);
    for (PQconninfoOption *o = info; o && o->keyword; o++)
        if (strcmp(o->keyword, keyword) == 0 && o->val)
            found = strncpy(value, o->val, sizeof value - 1);
    PQconninfoFree(info);
    return found;
}

static void pg_add_option__appends_separated_by_a_space(void **state)
{
    (void)state;
    char options[200] = "";
    pg_add_option(options, sizeof options, "lock_timeout", "5s");
    pg_add_option(options, sizeof options, "statement_timeout", NULL);
    pg_add_option(options, sizeof options, "search_path", "app");
    assert_string_equal(options, "-c lock_timeout=5s -c search_path=app");
}

static void pg_add_option__never_past_the_buffer(void **state)
{
    (void)state;
    char options[16] = "";
    pg_add_option(options, sizeof options, "lock_timeout", "5s");
    assert_int_equal(strlen(options), 15);
}

static void pg_session_options__adds_every_setting(void **state)
{
    (void)state;
    char out[1400];
    pg_session_options("-c lock_timeout=5s", out, sizeof out);
    assert_string_equal(out, "-c lock_timeout=5s -c client_connection_check_interval=1s "
                        "-c tcp_keepalives_idle=30 -c tcp_keepalives_interval=10 "
                        "-c tcp_keepalives_count=3 -c tcp_user_timeout=60000");
}

static void pg_session_options__the_urls_own_setting_wins(void **state)
{
    (void)state;
    char out[1400];
    pg_session_options("-c tcp_keepalives_idle=5 -c client_connection_check_interval=0", out,
                       sizeof out);
    assert_non_null(strstr(out, "tcp_keepalives_idle=5"));
    assert_null(strstr(out, "tcp_keepalives_idle=30"));
    assert_null(strstr(out, "client_connection_check_interval=1s"));
    assert_non_null(strstr(out, "tcp_user_timeout=60000"));
}

static void pg_inspect_url__registers_the_password_and_copies_options(void **state)
{
    (void)state;
    char options[200] = "";
    msg_clear_secrets();
    assert_int_equal(pg_inspect_url("postgresql://app:Sentinel-pg-1@db.example/prod?options="
                                    "-c%20search_path%3Dapp", options, sizeof options), 0);
    assert_string_equal(options, "-c search_path=app");
    char *shown = msg_redact("the password is Sentinel-pg-1, see");
    assert_string_equal(shown, "the password is ***, see");
    free(shown);
    msg_clear_secrets();
}

static void pg_inspect_url__key_value_form(void **state)
{
    (void)state;
    msg_clear_secrets();
    assert_int_equal(pg_inspect_url("host=db dbname=prod password='a b#c'", NULL, 0), 0);
    char *shown = msg_redact("was a b#c here");
    assert_string_equal(shown, "was *** here");
    free(shown);
    msg_clear_secrets();
}

static void pg_inspect_url__unparseable_is_refused(void **state)
{
    (void)state;
    char options[64] = "unchanged";
    assert_int_equal(pg_inspect_url("host=db port", options, sizeof options), -1);
    assert_int_equal(pg_inspect_url("postgresql://h/db?nosuchkey=1", options, sizeof options), -1);
    assert_string_equal(options, "unchanged");
}

static void pg_describe_text__our_words_for_each_failure(void **state)
{
    (void)state;
    static const struct {
        const char *libpq, *ours;
    } cases[] = {
        {"FATAL:  password authentication failed for user \"app\"",
         "password authentication failed for user \"app\""},
        {"fe_sendauth: no password supplied",
         "the server asks user \"app\" for a password and none was given"},
        {"FATAL:  database \"prod\" does not exist", "database \"prod\" does not exist on h port 5"},
        {"FATAL:  role \"app\" does not exist", "role \"app\" does not exist on h port 5"},
        {"connection to server ... failed: Connection refused",
         "no server is accepting connections at h port 5"},
        {"could not connect: No such file or directory", "no server is accepting connections at h port 5"},
        {"could not translate host name \"h\" to address", "unknown host \"h\""},
        {"timeout expired", "no answer from h port 5 within 10 seconds"},
        {"FATAL:  the database system is starting up",
         "the server at h port 5 is starting up or shutting down"},
        {"FATAL:  too many connections for role \"app\"",
         "user \"app\" already has as many connections as its CONNECTION LIMIT allows on h port 5"},
        {"FATAL:  too many connections for database \"prod\"",
         "database \"prod\" already has as many connections as its CONNECTION LIMIT allows on h port 5"},
        {"FATAL:  database \"prod\" is not currently accepting connections",
         "database \"prod\" on h port 5 does not accept connections (ALLOW_CONNECTIONS false)"},
        {"FATAL:  sorry, too many clients already: remaining connection slots are reserved",
         "the server at h port 5 has no connection slots left"},
        {"FATAL:  no pg_hba.conf entry for host \"1.2.3.4\"",
         "the server at h port 5 does not accept user \"app\" for database \"prod\" from here (pg_hba.conf)"},
        {"postgresql://app:secret@h/prod: something else",
         "the connection to h port 5 failed (database \"prod\", user \"app\")"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[400];
        pg_describe_text(cases[i].libpq, "h", "5", "prod", "app", out, sizeof out);
        assert_string_equal(out, cases[i].ours);
        assert_null(strstr(out, "secret"));
    }
}

static void pg_describe_failure__no_server_at_a_socket(void **state)
{
    (void)state;
    const char *keys[] = {"host", "dbname", "user", NULL};
    const char *values[] = {NOWHERE, "prod", "app", NULL};
    PGconn *pg = pg_connect(keys, values);
    assert_int_not_equal(PQstatus(pg), CONNECTION_OK);
    char out[400];
    pg_describe_failure(pg, out, sizeof out);
    assert_string_equal(out, "no server is accepting connections at " NOWHERE " port 5432");
    PQfinish(pg);
}

static void pg_connect__keepalives_in_front_the_url_wins(void **state)
{
    (void)state;
    const char *keys[] = {"dbname", NULL};
    const char *values[] = {"postgresql:///prod?host=" NOWHERE "&keepalives_idle=7", NULL};
    PGconn *pg = pg_connect(keys, values);
    assert_string_equal(option(pg, "keepalives"), "1");
    assert_string_equal(option(pg, "keepalives_idle"), "7");       /* the URL's */
    assert_string_equal(option(pg, "keepalives_interval"), "10");
    assert_string_equal(option(pg, "keepalives_count"), "3");
    if (PQlibVersion() >= 120000)
        assert_string_equal(option(pg, "tcp_user_timeout"), "60000");
    assert_string_equal(option(pg, "dbname"), "prod");
    PQfinish(pg);
}

static void pg_connect_admin__the_maintenance_database_of_the_same_server(void **state)
{
    (void)state;
    PGconn *pg = pg_connect_admin("postgresql://app@/prod?host=" NOWHERE "&port=5999");
    assert_string_equal(option(pg, "dbname"), "postgres");
    assert_string_equal(option(pg, "host"), NOWHERE);
    assert_string_equal(option(pg, "port"), "5999");
    assert_string_equal(option(pg, "user"), "app");
    assert_string_equal(option(pg, "connect_timeout"), "10");
    assert_string_equal(option(pg, "keepalives_idle"), "30");
    PQfinish(pg);
}

static void pg_connect_aside__read_only_look_at_the_urls_own_database(void **state)
{
    (void)state;
    PGconn *pg = pg_connect_aside("host=" NOWHERE " dbname=prod",
                                  &(struct pg_aside){.timeout = 3, .read_only = true,
                                                     .application = "look"});
    assert_string_equal(option(pg, "dbname"), "prod");
    assert_string_equal(option(pg, "connect_timeout"), "3");
    assert_string_equal(option(pg, "options"), "-c default_transaction_read_only=on");
    assert_string_equal(option(pg, "application_name"), "look");
    assert_string_equal(option(pg, "keepalives"), "1");
    PQfinish(pg);
}

static void pg_connect_session__gives_up_cleanly_without_a_server(void **state)
{
    (void)state;
    PGconn *pg = pg_connect_session("host=" NOWHERE " dbname=prod", "stallrun test (dev)",
                                    "-c lock_timeout=5s");
    assert_non_null(pg);
    assert_int_not_equal(PQstatus(pg), CONNECTION_OK);
    assert_string_equal(option(pg, "application_name"), "stallrun test (dev)");
    assert_string_equal(option(pg, "client_encoding"), "UTF8");
    assert_non_null(strstr(option(pg, "options"), "-c lock_timeout=5s -c client_connection_check_interval=1s"));
    PQfinish(pg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pg_add_option__appends_separated_by_a_space),
        cmocka_unit_test(pg_add_option__never_past_the_buffer),
        cmocka_unit_test(pg_session_options__adds_every_setting),
        cmocka_unit_test(pg_session_options__the_urls_own_setting_wins),
        cmocka_unit_test(pg_inspect_url__registers_the_password_and_copies_options),
        cmocka_unit_test(pg_inspect_url__key_value_form),
        cmocka_unit_test(pg_inspect_url__unparseable_is_refused),
        cmocka_unit_test(pg_describe_text__our_words_for_each_failure),
        cmocka_unit_test(pg_describe_failure__no_server_at_a_socket),
        cmocka_unit_test(pg_connect__keepalives_in_front_the_url_wins),
        cmocka_unit_test(pg_connect_admin__the_maintenance_database_of_the_same_server),
        cmocka_unit_test(pg_connect_aside__read_only_look_at_the_urls_own_database),
        cmocka_unit_test(pg_connect_session__gives_up_cleanly_without_a_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
