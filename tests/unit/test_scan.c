/* test_scan.c — reading a migrations folder: links between migration folders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A fresh temporary directory per test (*state), removed afterwards. */
static int make_dir(void **state)
{
    char *dir = strdup("/tmp/stallmig-test-scan.XXXXXX");
    if (dir == NULL || mkdtemp(dir) == NULL) {
        free(dir);
        return -1;
    }
    *state = dir;
    return 0;
}

static int remove_dir(void **state)
{
    char command[200];
    snprintf(command, sizeof command, "rm -rf '%s'", (char *)*state);
    int rc = system(command);
    free(*state);
    return rc == 0 ? 0 : -1;
}

/* Writes dir/rel (a file, its folders made first) with text. */
static void write_at(const char *dir, const char *rel, const char *text)
{
    char path[400], folder[400];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    snprintf(folder, sizeof folder, "%s", path);
    for (char *slash = folder + strlen(dir) + 1; (slash = strchr(slash, '/')) != NULL; *slash++ = '/') {
        *slash = '\0';
        mkdir(folder, 0755);
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void link_at(const char *dir, const char *target, const char *rel)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    assert_int_equal(symlink(target, path), 0);
}

/* Scans dir/migrations (made if missing) and returns its entries. */
static const struct scan_entry *scan_of(const char *dir, struct scan **scan, size_t *count)
{
    char path[400];
    snprintf(path, sizeof path, "%s/migrations", dir);
    mkdir(path, 0755);
    *scan = scan_start(path, NULL);
    assert_non_null(*scan);
    const struct scan_entry *entries;
    assert_int_equal(scan_wait(*scan, &entries, count), 0);
    return entries;
}

static void assert_clean(const struct scan_entry *e, const char *name)
{
    assert_string_equal(e->name, name);
    assert_null(e->problem);
    assert_null(e->same_as);
    assert_int_equal(strlen(e->checksum), HASH_HEX_LEN);
}

static void assert_same_as(const struct scan_entry *e, const char *name, const char *other)
{
    assert_string_equal(e->name, name);
    assert_non_null(e->problem);
    assert_non_null(e->same_as);
    assert_string_equal(e->same_as, other);
    assert_string_equal(e->checksum, "");
}

static void scan_wait__folder_linking_to_another_migration_is_refused(void **state)
{
    const char *dir = *state;
    write_at(dir, "migrations/20240101000000_a/migration.sql", "CREATE TABLE a (id int);");
    link_at(dir, "20240101000000_a", "migrations/20240102000000_b");
    struct scan *scan;
    size_t n;
    const struct scan_entry *e = scan_of(dir, &scan, &n);
    assert_int_equal(n, 2);
    assert_clean(&e[0], "20240101000000_a");
    assert_same_as(&e[1], "20240102000000_b", "20240101000000_a");
    scan_free(scan);
}

/* The folder that is the link gets the problem, also when it sorts first. */
static void scan_wait__file_linking_to_a_later_migrations_file_is_the_one_refused(void **state)
{
    const char *dir = *state;
    write_at(dir, "migrations/20240102000000_b/migration.sql", "CREATE TABLE b (id int);");
    write_at(dir, "migrations/20240101000000_a/down.sql", "SELECT 1;");
    link_at(dir, "../20240102000000_b/migration.sql", "migrations/20240101000000_a/migration.sql");
    struct scan *scan;
    size_t n;
    const struct scan_entry *e = scan_of(dir, &scan, &n);
    assert_int_equal(n, 2);
    assert_same_as(&e[0], "20240101000000_a", "20240102000000_b");
    assert_clean(&e[1], "20240102000000_b");
    scan_free(scan);
}

static void scan_wait__two_folders_linking_one_shared_file_are_refused(void **state)
{
    const char *dir = *state;
    char shared[400];
    snprintf(shared, sizeof shared, "%s/shared.sql", dir);
    write_at(dir, "shared.sql", "CREATE TABLE shared (id int);");
    write_at(dir, "migrations/20240101000000_a/down.sql", "SELECT 1;");
    write_at(dir, "migrations/20240102000000_b/down.sql", "SELECT 1;");
    link_at(dir, shared, "migrations/20240101000000_a/migration.sql");
    link_at(dir, "../../shared.sql", "migrations/20240102000000_b/migration.sql");
    struct scan *scan;
    size_t n;
    const struct scan_entry *e = scan_of(dir, &scan, &n);
    assert_int_equal(n, 2);
    assert_clean(&e[0], "20240101000000_a");
    assert_same_as(&e[1], "20240102000000_b", "20240101000000_a");
    scan_free(scan);
}

static void scan_wait__hard_linked_files_are_refused(void **state)
{
    const char *dir = *state;
    char from[400], to[400];
    write_at(dir, "migrations/20240101000000_a/migration.sql", "CREATE TABLE a (id int);");
    write_at(dir, "migrations/20240102000000_b/down.sql", "SELECT 1;");
    snprintf(from, sizeof from, "%s/migrations/20240101000000_a/migration.sql", dir);
    snprintf(to, sizeof to, "%s/migrations/20240102000000_b/migration.sql", dir);
    assert_int_equal(link(from, to), 0);
    struct scan *scan;
    size_t n;
    const struct scan_entry *e = scan_of(dir, &scan, &n);
    assert_int_equal(n, 2);
    assert_clean(&e[0], "20240101000000_a");
    assert_same_as(&e[1], "20240102000000_b", "20240101000000_a");
    scan_free(scan);
}

/* Links out of the migrations folder stay allowed: one folder, one file. */
static void scan_wait__links_to_one_file_or_folder_outside_are_allowed(void **state)
{
    const char *dir = *state;
    char target[400];
    write_at(dir, "shared/outside.sql", "CREATE TABLE outside (id int);");
    write_at(dir, "shared/20240102000000_folder/migration.sql", "CREATE TABLE folder (id int);");
    write_at(dir, "migrations/20240101000000_file/down.sql", "SELECT 1;");
    link_at(dir, "../../shared/outside.sql", "migrations/20240101000000_file/migration.sql");
    snprintf(target, sizeof target, "%s/shared/20240102000000_folder", dir);
    link_at(dir, target, "migrations/20240102000000_folder");
    /* two copies of the same text are two files: two migrations */
    write_at(dir, "migrations/20240103000000_copy/migration.sql", "CREATE TABLE outside (id int);");
    struct scan *scan;
    size_t n;
    const struct scan_entry *e = scan_of(dir, &scan, &n);
    assert_int_equal(n, 3);
    assert_clean(&e[0], "20240101000000_file");
    assert_clean(&e[1], "20240102000000_folder");
    assert_clean(&e[2], "20240103000000_copy");
    assert_string_equal(e[0].checksum, e[2].checksum);
    scan_free(scan);
}

/* Enough folders that two threads read them: a link from the second half to
 * the first is still found, and every other folder stays clean. */
static void scan_wait__link_across_the_two_reading_threads_is_found(void **state)
{
    const char *dir = *state;
    char rel[200], text[100];
    for (int i = 0; i < 100; i++) {
        snprintf(rel, sizeof rel, "migrations/20240101%06d_m%d/migration.sql", i, i);
        snprintf(text, sizeof text, "CREATE TABLE m%d (id int);", i);
        write_at(dir, rel, text);
    }
    link_at(dir, "20240101000003_m3", "migrations/20240101000097_z");
    struct scan *scan;
    size_t n;
    const struct scan_entry *e = scan_of(dir, &scan, &n);
    assert_int_equal(n, 101);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(e[i].name, "20240101000097_z") == 0)
            assert_same_as(&e[i], "20240101000097_z", "20240101000003_m3");
        else
            assert_clean(&e[i], e[i].name);
    }
    scan_free(scan);
}

/* A folder with its own problem is not compared (it has no file). */
static void scan_wait__folders_with_problems_are_not_compared(void **state)
{
    const char *dir = *state;
    write_at(dir, "migrations/20240101000000_a/migration.sql", "CREATE TABLE a (id int);");
    write_at(dir, "migrations/20240102000000_b/down.sql", "SELECT 1;");
    write_at(dir, "migrations/20240103000000_c/down.sql", "SELECT 1;");
    struct scan *scan;
    size_t n;
    const struct scan_entry *e = scan_of(dir, &scan, &n);
    assert_int_equal(n, 3);
    assert_clean(&e[0], "20240101000000_a");
    assert_string_equal(e[1].problem, "has no migration.sql");
    assert_null(e[1].same_as);
    assert_string_equal(e[2].problem, "has no migration.sql");
    assert_null(e[2].same_as);
    scan_free(scan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
        T(scan_wait__folder_linking_to_another_migration_is_refused),
        T(scan_wait__file_linking_to_a_later_migrations_file_is_the_one_refused),
        T(scan_wait__two_folders_linking_one_shared_file_are_refused),
        T(scan_wait__hard_linked_files_are_refused),
        T(scan_wait__links_to_one_file_or_folder_outside_are_allowed),
        T(scan_wait__link_across_the_two_reading_threads_is_found),
        T(scan_wait__folders_with_problems_are_not_compared),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
