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
    double s;
    assert_int_equal(config_parse_duration("500ms", &s), 0), assert_true(s == 0.5);
    assert_int_equal(config_parse_duration("5s", &s), 0), assert_true(s == 5);
    assert_int_equal(config_parse_duration("2min", &s), 0), assert_true(s == 120);
    assert_int_equal(config_parse_duration("1h", &s), 0), assert_true(s == 3600);
    assert_int_equal(config_parse_duration("1500", &s), 0), assert_true(s == 1.5);
    assert_int_equal(config_parse_duration("-1s", &s), -1);
    assert_int_equal(config_parse_duration("5 parsecs", &s), -1);
    assert_int_equal(config_parse_duration("", &s), -1);
}

static void config_parse_bool__words(void **state)
{
    (void)state;
    bool b;
    assert_int_equal(config_parse_bool("FALSE", &b), 0), assert_false(b);
    assert_int_equal(config_parse_bool("on", &b), 0), assert_true(b);
    assert_int_equal(config_parse_bool("2", &b), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_load__full_file),
        cmocka_unit_test(config_load__missing_file),
        cmocka_unit_test(config_load__unknown_key),
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
        cmocka_unit_test(config_interpolate__cases),
        cmocka_unit_test(config_parse_duration__units),
        cmocka_unit_test(config_parse_bool__words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
