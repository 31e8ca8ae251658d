/* test_freshness.c — what a backup's name and times say about it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "backup.h"
#include "freshness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void freshness_from_name__the_part_after_after(void **state)
{
    (void)state;
    char out[256];
    freshness_from_name("/b/prod/prod-20240501100000-01-after-20240101000000_a.dump", out, sizeof out);
    assert_string_equal(out, "20240101000000_a");
    freshness_from_name("prod-20240501100000-01-after-nothing.dump", out, sizeof out);
    assert_string_equal(out, "nothing");
    freshness_from_name("/b/prod/prod-20240501100000-02-before-restore-after-2024_x-after-y.dump",
                        out, sizeof out);
    assert_string_equal(out, "2024_x-after-y");           /* the first "-after-" counts */
    freshness_from_name("/b/x-after-y/by-hand.dump", out, sizeof out);   /* the folder does not */
    assert_string_equal(out, "");
}

static void freshness_span__in_words(void **state)
{
    (void)state;
    char out[32];
    freshness_span(-3, out, sizeof out);
    assert_string_equal(out, "0 s");
    freshness_span(119, out, sizeof out);
    assert_string_equal(out, "119 s");
    freshness_span(120, out, sizeof out);
    assert_string_equal(out, "2 min");
    freshness_span(3 * 3600 + 5, out, sizeof out);
    assert_string_equal(out, "3 h");
    freshness_span(3 * 86400, out, sizeof out);
    assert_string_equal(out, "3 days");
}

static void freshness_is_stale__taken_before_the_newest_migration(void **state)
{
    (void)state;
    struct backup_age age = {.taken = 100};
    assert_false(freshness_is_stale(&age));               /* no migration applied */
    snprintf(age.newest, sizeof age.newest, "20240101000000_a");
    age.newest_at = 99.5;
    assert_false(freshness_is_stale(&age));
    age.newest_at = 100.25;
    assert_true(freshness_is_stale(&age));
}

static void freshness_holds__for_a_sentence(void **state)
{
    (void)state;
    struct backup_age age = {0};
    char out[300];
    freshness_holds(&age, out, sizeof out);
    assert_string_equal(out, "");
    snprintf(age.last_migration, sizeof age.last_migration, "nothing");
    freshness_holds(&age, out, sizeof out);
    assert_string_equal(out, "before any migration");
    snprintf(age.last_migration, sizeof age.last_migration, "20240101000000_a");
    freshness_holds(&age, out, sizeof out);
    assert_string_equal(out, "after 20240101000000_a");
}

static void freshness_read__without_a_database_the_file_and_its_name(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_freshness.XXXXXX", path[300], err[300];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/dev-20240501100000-01-after-20240101000000_a.dump", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    struct backup_age age;
    assert_int_equal(freshness_read(NULL, path, &age, err, sizeof err), 0);
    assert_false(age.recorded);
    assert_true(age.taken > 1714557600);                   /* its mtime: now */
    assert_string_equal(age.last_migration, "20240101000000_a");
    assert_false(freshness_is_stale(&age));
    unlink(path);
    assert_int_equal(freshness_read(NULL, path, &age, err, sizeof err), -1);
    rmdir(dir);
}

static void backup_next_path__numbered_within_the_second(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_freshness.XXXXXX", path[400], first[400];
    assert_non_null(mkdtemp(dir));
    const time_t when = 1714557600;
    assert_int_equal(backup_next_path(dir, "prod", "before-restore-after-a b/c", when, first,
                                      sizeof first), 0);
    char want[400];
    snprintf(want, sizeof want, "%s/prod-20240501100000-01-before-restore-after-a_b_c.dump", dir);
    assert_string_equal(first, want);
    FILE *f = fopen(first, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(backup_next_path(dir, "prod", "x", when, path, sizeof path), 0);
    snprintf(want, sizeof want, "%s/prod-20240501100000-02-x.dump", dir);
    assert_string_equal(path, want);
    assert_int_equal(backup_next_path(dir, "prod", "x", when, path, 20), -1);   /* too long */
    unlink(first);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(freshness_from_name__the_part_after_after),
        cmocka_unit_test(freshness_span__in_words),
        cmocka_unit_test(freshness_is_stale__taken_before_the_newest_migration),
        cmocka_unit_test(freshness_holds__for_a_sentence),
        cmocka_unit_test(freshness_read__without_a_database_the_file_and_its_name),
        cmocka_unit_test(backup_next_path__numbered_within_the_second),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
