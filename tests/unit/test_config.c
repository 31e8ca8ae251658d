/* test_config.c — stallmig.ini loading, validation and interpolation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Loads data/config/<name> and expects failure with text in the message and
 * the given line (0: no line). */
static void expect_error(const char *name, int line, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "data/config/%s", name);
    struct config cfg;
    struct config_error err;
    int rc = config_load(path, &cfg, &err);
    if (rc == 0 || strstr(err.message, text) == NULL || err.line != line)
        print_error("%s: rc=%d line=%d message=%s\n", name, rc, err.line, err.message);
    assert_int_equal(rc, -1);
    assert_int_equal(err.line, line);
    assert_non_null(strstr(err.message, text));
    assert_non_null(strstr(err.message, path));     /* every message names the file */
}

static void config_load__full_file(void **state)
{
    (void)state;
    struct config cfg;
    struct config_error err;
    assert_int_equal(config_load("data/config/good.ini", &cfg, &err), 0);
    assert_int_equal(cfg.env_count, 3);
    assert_non_null(strstr(cfg.migrations_dir, "/tests/unit/data/config/db/migrations"));
    assert_string_equal(cfg.backups_dir, "/var/backups/stallmig");
    assert_non_null(strstr(cfg.seed, "/data/config/seeds/seed.sql"));
    const struct env_config *dev = config_find_env(&cfg, "dev");
    const struct env_config *staging = config_find_env(&cfg, "staging");
    const struct env_config *prod = config_find_env(&cfg, "prod");
    assert_false(dev->is_protected);
    assert_true(staging->is_protected);           /* protected unless it says false */
    assert_true(staging->backup);
    assert_string_equal(staging->lock_timeout, "5s");
    assert_string_equal(staging->statement_timeout, "10min");
    assert_true(staging->lock_wait == 30.0);
    assert_true(dev->lock_wait == 300.0);
    assert_string_equal(prod->promote_from, "staging");
    assert_int_equal(prod->keep_backups, 3);
    assert_non_null(strstr(cfg.lint_rules_dir, "/data/config/lint"));
    assert_true(dev->rehearse);                   /* unprotected: rehearsal allowed */
    assert_false(prod->rehearse);                 /* protected: only when it opts in */
    assert_true(staging->rehearse);
    assert_int_equal(staging->exact_count_below, 5000);
    assert_int_equal(prod->exact_count_below, 1000000);
    assert_null(config_find_env(&cfg, "qa"));
    config_free(&cfg);
}

static void config_load__missing_file(void **state)
{
    (void)state;
    struct config cfg;
    struct config_error err;
    assert_int_equal(config_load("data/config/nope.ini", &cfg, &err), -1);
    assert_non_null(strstr(err.message, "data/config/nope.ini: cannot read the configuration"));
}

static void config_load__unknown_key(void **s) { (void)s; expect_error("unknown_key.ini", 6, "unknown key 'flavour' in [env.dev]"); }
static void config_load__unknown_section(void **s) { (void)s; expect_error("unknown_section.ini", 2, "unknown section [database]"); }
static void config_load__malformed_line(void **s) { (void)s; expect_error("malformed.ini", 3, "malformed line"); }
static void config_load__duplicate_key(void **s) { (void)s; expect_error("duplicate_key.ini", 3, "duplicate key 'url' in [env.dev] (first set at line 2)"); }
static void config_load__duplicate_section(void **s) { (void)s; expect_error("duplicate_section.ini", 3, "[env.dev] appears twice (first at line 1)"); }
static void config_load__env_without_url(void **s) { (void)s; expect_error("no_url.ini", 1, "[env.dev] has no url"); }
static void config_load__bad_row_count(void **s) { (void)s; expect_error("bad_count.ini", 3, "exact_count_below = 'lots': expected a whole number"); }
static void config_load__bad_boolean(void **s) { (void)s; expect_error("bad_bool.ini", 3, "protected = 'maybe': expected true or false"); }
static void config_load__bad_duration(void **s) { (void)s; expect_error("bad_duration.ini", 3, "lock_timeout = 'soon' is not a duration"); }
static void config_load__promote_from_unknown(void **s) { (void)s; expect_error("bad_promote.ini", 3, "there is no [env.staging]"); }
static void config_load__key_outside_section(void **s) { (void)s; expect_error("outside_section.ini", 1, "'url' is outside any section"); }
static void config_load__nul_byte(void **s) { (void)s; expect_error("binary.ini", 2, "contains a NUL byte"); }
static void config_load__line_too_long(void **s) { (void)s; expect_error("too_long.ini", 2, "line is longer than"); }
static void config_load__bad_env_name(void **s) { (void)s; expect_error("bad_env_name.ini", 1, "an environment name is letters"); }

static void config_load__empty_file_has_no_envs(void **state)
{
    (void)state;
    struct config cfg;
    struct config_error err;
    assert_int_equal(config_load("data/config/empty.ini", &cfg, &err), 0);
    assert_int_equal(cfg.env_count, 0);
    assert_non_null(strstr(cfg.migrations_dir, "/migrations"));
    config_free(&cfg);
}

static void config_load__long_line_within_limit(void **state)
{
    (void)state;
    struct config cfg;
    struct config_error err;
    assert_int_equal(config_load("data/config/long_ok.ini", &cfg, &err), 0);
    assert_int_equal(strlen(cfg.envs[0].url.raw), strlen("postgresql://h/db?application_name=") + 3000);
    config_free(&cfg);
}

static void config_load__bom_and_crlf(void **state)
{
    (void)state;
    struct config cfg;
    struct config_error err;
    assert_int_equal(config_load("data/config/bom_crlf.ini", &cfg, &err), 0);
    assert_string_equal(cfg.envs[0].name, "dev");
    assert_string_equal(cfg.envs[0].url.raw, "x");
    assert_false(cfg.envs[0].is_protected);
    config_free(&cfg);
}

/* An unset variable is an error only for the environment that is used. */
static void config_env_url__unset_variable_names_line(void **state)
{
    (void)state;
    struct config cfg;
    struct config_error err;
    unsetenv("STALLMIG_TEST_UNSET_VARIABLE");
    assert_int_equal(config_load("data/config/unset_var.ini", &cfg, &err), 0);
    assert_null(config_env_url(&cfg, &cfg.envs[0], &err));
    assert_int_equal(err.line, 5);
    assert_string_equal(err.message, "data/config/unset_var.ini:5: ${STALLMIG_TEST_UNSET_VARIABLE} "
                        "is not set (export it, or give a default: ${STALLMIG_TEST_UNSET_VARIABLE:-...})");
    assert_string_equal(err.hint, "fix the url of [env.dev] in stallmig.ini, or set the environment "
                        "variable it names where stallrun runs (the shell, or the CI job's variables)");
    config_free(&cfg);
}

static void config_env_url__control_character_from_variable(void **state)
{
    (void)state;
    struct config cfg;
    struct config_error err;
    setenv("STALLMIG_TEST_UNSET_VARIABLE", "postgresql://h/db\nhost=x", 1);
    assert_int_equal(config_load("data/config/unset_var.ini", &cfg, &err), 0);
    assert_null(config_env_url(&cfg, &cfg.envs[0], &err));
    unsetenv("STALLMIG_TEST_UNSET_VARIABLE");
    assert_int_equal(err.line, 5);
    assert_string_equal(err.message, "data/config/unset_var.ini:5: [env.dev] url contains a newline "
                        "or another control character (from the variable it names)");
    assert_non_null(strstr(err.hint, "[env.dev]"));
    assert_non_null(strstr(err.hint, "a character you cannot see, most often a line break at its end"));
    config_free(&cfg);
}

static void config_load__device_is_not_read(void **state)
{
    (void)state;
    struct config cfg;
    struct config_error err;
    assert_int_equal(config_load("/dev/zero", &cfg, &err), -1);
    assert_string_equal(err.message, "/dev/zero: cannot read the configuration: it is not a regular "
                        "file (give another with --config FILE)");
}

static void config_env_url__unterminated(void **state)
{
    (void)state;
    struct config cfg;
    struct config_error err;
    assert_int_equal(config_load("data/config/unterminated.ini", &cfg, &err), 0);
    assert_null(config_env_url(&cfg, &cfg.envs[0], &err));
    assert_non_null(strstr(err.message, "unterminated.ini:2: unterminated '${'"));
    config_free(&cfg);
}

static void config_env_url__set_and_default(void **state)
{
    (void)state;
    struct config cfg;
    struct config_error err;
    setenv("STALLMIG_TEST_STAGING_URL", "postgresql://stage/db", 1);
    unsetenv("STALLMIG_TEST_PROD_URL");
    assert_int_equal(config_load("data/config/good.ini", &cfg, &err), 0);
    char *staging = config_env_url(&cfg, config_find_env(&cfg, "staging"), &err);
    char *prod = config_env_url(&cfg, config_find_env(&cfg, "prod"), &err);
    assert_string_equal(staging, "postgresql://stage/db");
    assert_string_equal(prod, "postgresql://prod/db");
    free(staging);
    free(prod);
    setenv("STALLMIG_TEST_PROD_URL", "postgresql://real-prod/db", 1);
    prod = config_env_url(&cfg, config_find_env(&cfg, "prod"), &err);
    assert_string_equal(prod, "postgresql://real-prod/db");
    free(prod);
    config_free(&cfg);
}

/* Every reader of a url gets it through config_env_url, which refuses one
 * that names no database or reads two ways, at its line, quoting none of it. */
static void config_env_url__refuses_urls_libpq_would_complete_or_misread(void **state)
{
    (void)state;
    struct config cfg;
    struct config_error err;
    assert_int_equal(config_load("data/config/url_checks.ini", &cfg, &err), 0);
    assert_null(config_env_url(&cfg, config_find_env(&cfg, "bare"), &err));
    assert_int_equal(err.line, 2);
    assert_non_null(strstr(err.message, "url_checks.ini:2: the url of [env.bare] does not name a "
                           "database"));
    assert_non_null(strstr(err.hint, "write the database in the url"));
    assert_null(config_env_url(&cfg, config_find_env(&cfg, "slash"), &err));
    assert_int_equal(err.line, 5);
    assert_non_null(strstr(err.message, "url_checks.ini:5: the url of [env.slash] is ambiguous"));
    assert_null(strstr(err.message, "Sentinel"));
    assert_non_null(strstr(err.hint, "percent-encode"));
    char *local = config_env_url(&cfg, config_find_env(&cfg, "local"), &err);
    assert_string_equal(local, "local:stallplass_dev");      /* the project's own: resolved later */
    free(local);
    config_free(&cfg);
}

/* Loading takes the variables that would choose a server out of the
 * environment (libpq and pg_dump would fill in from them); ${PGHOST} in the
 * INI still reads them. */
static void config_load__hides_the_variables_that_choose_a_server(void **state)
{
    (void)state;
    setenv("PGHOST", "db.example.com", 1);
    setenv("PGUSER", "app", 1);
    setenv("PGDATABASE", "elsewhere", 1);
    setenv("PGPASSWORD", "kept", 1);
    struct config cfg;
    struct config_error err;
    assert_int_equal(config_load("data/config/url_checks.ini", &cfg, &err), 0);
    assert_null(getenv("PGHOST"));
    assert_null(getenv("PGUSER"));
    assert_null(getenv("PGDATABASE"));
    assert_string_equal(getenv("PGPASSWORD"), "kept");      /* a credential, not a choice */
    char *url = config_env_url(&cfg, config_find_env(&cfg, "fromvars"), &err);
    assert_string_equal(url, "postgresql://app@db.example.com/prod");
    free(url);
    assert_string_equal(config_getenv("PGDATABASE"), "elsewhere");
    config_free(&cfg);
    unsetenv("PGPASSWORD");
}

static void config_interpolate__cases(void **state)
{
    (void)state;
    char why[256];
    setenv("STALLMIG_A", "alpha", 1);
    char *out = config_interpolate("x${STALLMIG_A}y${STALLMIG_A}", why, sizeof why);
    assert_string_equal(out, "xalphayalpha");
    free(out);
    out = config_interpolate("$STALLMIG_A and $ alone", why, sizeof why);
    assert_string_equal(out, "$STALLMIG_A and $ alone");            /* only ${...} expands */
    free(out);
    out = config_interpolate("${STALLMIG_NOPE:-}", why, sizeof why);
    assert_string_equal(out, "");                                   /* empty default */
    free(out);
    assert_null(config_interpolate("${1BAD}", why, sizeof why));
    assert_non_null(strstr(why, "is not a variable name"));
    assert_null(config_interpolate("${}", why, sizeof why));
}

static void config_parse_duration__units(void **state)
{
    (void)state;
    long long ms;
    assert_int_equal(config_parse_duration("500ms", &ms), 0), assert_true(ms == 500);
    assert_int_equal(config_parse_duration("5s", &ms), 0), assert_true(ms == 5000);
    assert_int_equal(config_parse_duration("2min", &ms), 0), assert_true(ms == 120000);
    assert_int_equal(config_parse_duration("1h", &ms), 0), assert_true(ms == 3600000);
    assert_int_equal(config_parse_duration("1d", &ms), 0), assert_true(ms == 86400000);
    assert_int_equal(config_parse_duration("1500", &ms), 0), assert_true(ms == 1500);
    assert_int_equal(config_parse_duration("1.5s", &ms), 0), assert_true(ms == 1500);
    assert_int_equal(config_parse_duration("5 s", &ms), 0), assert_true(ms == 5000);
    assert_int_equal(config_parse_duration("0", &ms), 0), assert_true(ms == 0);
    assert_int_equal(config_parse_duration("2147483647ms", &ms), 0), assert_true(ms == 2147483647);
    assert_int_equal(config_parse_duration("-1s", &ms), -1);
    assert_int_equal(config_parse_duration("5 parsecs", &ms), -1);
    assert_int_equal(config_parse_duration("5S", &ms), -1);      /* units are case-sensitive */
    assert_int_equal(config_parse_duration("1e3", &ms), -1);
    assert_int_equal(config_parse_duration("0x10", &ms), -1);
    assert_int_equal(config_parse_duration("inf", &ms), -1);
    assert_int_equal(config_parse_duration("", &ms), -1);
    assert_int_equal(config_parse_duration("2147483648ms", &ms), -2);
    assert_int_equal(config_parse_duration("25d", &ms), -2);
    assert_int_equal(config_parse_duration("99999999999h", &ms), -2);
    assert_int_equal(config_parse_duration("0.4ms", &ms), -2);
}

/* What PostgreSQL is given: no space between number and unit (a startup
 * option "-c lock_timeout=5 s" splits in two), whole milliseconds for a
 * fraction or a leading zero (the server reads 010 as octal), "0" for off. */
static void config_load__durations_normalised_for_the_server(void **state)
{
    (void)state;
    struct config cfg;
    struct config_error err;
    assert_int_equal(config_load("data/config/durations.ini", &cfg, &err), 0);
    const struct env_config *dev = config_find_env(&cfg, "dev");
    const struct env_config *prod = config_find_env(&cfg, "prod");
    assert_string_equal(dev->lock_timeout, "5s");
    assert_string_equal(dev->statement_timeout, "1500ms");
    assert_true(dev->lock_wait == 120.0);
    assert_string_equal(prod->lock_timeout, "0");
    assert_string_equal(prod->statement_timeout, "10ms");
    assert_true(prod->lock_wait == 24 * 86400.0);
    config_free(&cfg);
}

static void config_load__duration_beyond_postgresql_limit(void **s) { (void)s; expect_error("huge_duration.ini", 4, "[env.dev] lock_timeout = '99999999999h' is out of range: PostgreSQL takes whole milliseconds from 1ms to 2147483647ms (about 24 days), or 0 for no timeout"); }
static void config_load__duration_just_over_int_max(void **s) { (void)s; expect_error("over_int_max.ini", 3, "statement_timeout = '25d' is out of range"); }
static void config_load__duration_below_a_millisecond(void **s) { (void)s; expect_error("below_1ms.ini", 3, "[env.dev] lock_wait = '0.2ms' is out of range: PostgreSQL takes whole milliseconds from 1ms to 2147483647ms (about 24 days)"); }
static void config_load__duration_unit_postgresql_refuses(void **s) { (void)s; expect_error("bad_unit.ini", 3, "lock_timeout = '5 sec' is not a duration: write a number and one of the units PostgreSQL takes, ms, s, min, h or d (e.g. 500ms, 5s, 2min); a number alone is milliseconds"); }
static void config_load__duration_with_exponent(void **s) { (void)s; expect_error("exponent.ini", 3, "lock_timeout = '1e3s' is not a duration"); }
static void config_load__count_that_wraps_an_int(void **s) { (void)s; expect_error("wrapping_count.ini", 3, "keep_backups = '4294967297': expected a whole number from 1 to 10000"); }
static void config_load__count_beyond_a_long(void **s) { (void)s; expect_error("huge_count.ini", 3, "exact_count_below = '99999999999999999999': expected a whole number of rows from 0 to 9007199254740992"); }

static void config_parse_bool__words(void **state)
{
    (void)state;
    bool b;
    assert_int_equal(config_parse_bool("FALSE", &b), 0), assert_false(b);
    assert_int_equal(config_parse_bool("on", &b), 0), assert_true(b);
    assert_int_equal(config_parse_bool("2", &b), -1);
}

/* Every key of config.h's lists is documented in README.md (its section on
 * stallmig.ini): an environment key in backquotes, a [project] key as
 * "key = ". */
static void config_keys__each_named_in_the_readme(void **state)
{
    (void)state;
    FILE *f = fopen("../../README.md", "r");
    assert_non_null(f);
    static char readme[1 << 20];
    size_t n = fread(readme, 1, sizeof readme - 1, f);
    fclose(f);
    readme[n] = '\0';
    const char *env_keys[] = {
#define X(key, field, kind, dflt, min, max, words) "`" #key "`",
        CONFIG_ENV_KEYS(X)
#undef X
    };
    const char *project_keys[] = {
#define X(key, field, dflt) #key " = ",
        CONFIG_PROJECT_KEYS(X)
#undef X
    };
    for (size_t i = 0; i < sizeof env_keys / sizeof env_keys[0]; i++) {
        if (strstr(readme, env_keys[i]) == NULL)
            print_error("README.md does not name %s\n", env_keys[i]);
        assert_non_null(strstr(readme, env_keys[i]));
    }
    for (size_t i = 0; i < sizeof project_keys / sizeof project_keys[0]; i++)
        assert_non_null(strstr(readme, project_keys[i]));
}

/* The "known:" list of an unknown key is the list in config.h, in its order. */
static void config_load__unknown_key_lists_every_key(void **state)
{
    (void)state;
    expect_error("unknown_key.ini", 6, "(known: url, protected, backup, lock_timeout, "
                 "statement_timeout, lock_wait, promote_from, keep_backups, prisma_compat, "
                 "rehearse, exact_count_below, integration_tests, lock_retries, "
                 "backfill_batch, backfill_pause, backfill_max_lag, backfill_batch_time)");
}

static void config_load__fleets_and_their_members(void **state)
{
    (void)state;
    struct config cfg;
    struct config_error err;
    assert_int_equal(config_load("data/config/fleets.ini", &cfg, &err), 0);
    assert_int_equal(cfg.fleet_count, 2);
    const struct fleet_config *staging = config_find_fleet(&cfg, "tenants-staging");
    const struct fleet_config *prod = config_find_fleet(&cfg, "tenants");
    assert_non_null(strstr(staging->targets, "/data/config/tenants.lua"));   /* beside the INI */
    assert_int_equal(staging->parallel, 3);
    assert_string_equal(staging->waves, "100%");
    assert_string_equal(staging->on_error, "stop");
    assert_int_equal(prod->parallel, 4);
    assert_string_equal(prod->on_error, "5%");
    assert_true(prod->env.is_protected);
    assert_string_equal(prod->env.lock_timeout, "2s");
    /* a member: an environment FLEET.MEMBER with the fleet's settings, its
     * promote_from the same member of the fleet it promotes from */
    const struct env_config *m = config_add_member(&cfg, "tenants", "acme",
        "postgresql://localhost/acme", "postgresql://localhost/acme_staging", &err);
    assert_non_null(m);
    assert_string_equal(m->name, "tenants.acme");
    assert_true(m->backup && m->is_protected);
    assert_string_equal(m->lock_timeout, "2s");
    assert_string_equal(m->promote_from, "tenants-staging.acme");
    const struct env_config *from = config_find_env(&cfg, "tenants-staging.acme");
    assert_non_null(from);
    assert_false(from->is_protected);
    char *url = config_env_url(&cfg, m, &err);
    assert_string_equal(url, "postgresql://localhost/acme");
    free(url);
    assert_null(config_add_member(&cfg, "tenants", "a.b", "postgresql://localhost/x", "y", &err));
    assert_non_null(strstr(err.message, "member name 'a.b' is not"));
    assert_null(config_add_member(&cfg, "tenants", "solo", "postgresql://localhost/x", "", &err));
    assert_non_null(strstr(err.message, "promotes from fleet tenants-staging, which has no member solo"));
    assert_null(config_add_member(&cfg, "nope", "a", "postgresql://localhost/x", NULL, &err));
    config_free(&cfg);
}

static void config_load__fleet_errors(void **state)
{
    (void)state;
    expect_error("fleet_url.ini", 3, "[fleet.x] has no url: each member has its own");
    expect_error("fleet_no_members.ini", 1, "[fleet.x] names no members");
    expect_error("fleet_bad_promote.ini", 3, "promote_from = nowhere: there is no [env.nowhere] or [fleet.nowhere]");
    assert_true(config_valid_waves("1, 10%, 100%"));
    assert_false(config_valid_waves("1,,2"));
    assert_false(config_valid_waves("101%"));
    assert_true(config_valid_on_error("continue"));
    assert_false(config_valid_on_error("0"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_load__fleets_and_their_members),
        cmocka_unit_test(config_load__fleet_errors),
        cmocka_unit_test(config_load__full_file),
        cmocka_unit_test(config_load__missing_file),
        cmocka_unit_test(config_load__unknown_key),
        cmocka_unit_test(config_load__unknown_key_lists_every_key),
        cmocka_unit_test(config_keys__each_named_in_the_readme),
        cmocka_unit_test(config_load__unknown_section),
        cmocka_unit_test(config_load__malformed_line),
        cmocka_unit_test(config_load__duplicate_key),
        cmocka_unit_test(config_load__duplicate_section),
        cmocka_unit_test(config_load__env_without_url),
        cmocka_unit_test(config_load__bad_boolean),
        cmocka_unit_test(config_load__bad_row_count),
        cmocka_unit_test(config_load__bad_duration),
        cmocka_unit_test(config_load__promote_from_unknown),
        cmocka_unit_test(config_load__key_outside_section),
        cmocka_unit_test(config_load__nul_byte),
        cmocka_unit_test(config_load__line_too_long),
        cmocka_unit_test(config_load__bad_env_name),
        cmocka_unit_test(config_load__empty_file_has_no_envs),
        cmocka_unit_test(config_load__long_line_within_limit),
        cmocka_unit_test(config_load__bom_and_crlf),
        cmocka_unit_test(config_env_url__unset_variable_names_line),
        cmocka_unit_test(config_env_url__unterminated),
        cmocka_unit_test(config_env_url__control_character_from_variable),
        cmocka_unit_test(config_load__device_is_not_read),
        cmocka_unit_test(config_env_url__set_and_default),
        cmocka_unit_test(config_env_url__refuses_urls_libpq_would_complete_or_misread),
        cmocka_unit_test(config_load__hides_the_variables_that_choose_a_server),
        cmocka_unit_test(config_interpolate__cases),
        cmocka_unit_test(config_parse_duration__units),
        cmocka_unit_test(config_load__durations_normalised_for_the_server),
        cmocka_unit_test(config_load__duration_beyond_postgresql_limit),
        cmocka_unit_test(config_load__duration_just_over_int_max),
        cmocka_unit_test(config_load__duration_below_a_millisecond),
        cmocka_unit_test(config_load__duration_unit_postgresql_refuses),
        cmocka_unit_test(config_load__duration_with_exponent),
        cmocka_unit_test(config_load__count_that_wraps_an_int),
        cmocka_unit_test(config_load__count_beyond_a_long),
        cmocka_unit_test(config_parse_bool__words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
