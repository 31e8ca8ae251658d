/* test_scan_folders.c — every migration folder read and hashed, on a thread: names
 * in byte order, checksums, and each kind of folder that cannot be one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scan.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


static char dir[64];
static struct scan *current;         /* the last scan_all's, freed by the teardown */

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/stallmig-scan-test.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    scan_free(current);
    current = NULL;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static void folder(const char *name, const char *sql)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(mkdir(path, 0755), 0);
    if (sql == NULL)
        return;
    strcat(path, "/migration.sql");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(sql, f);
    fclose(f);
}

static const struct scan_entry *scan_all(size_t *count)
{
    scan_free(current);
    current = scan_start(dir, NULL);
    assert_non_null(current);
    assert_string_equal(scan_dir(current), dir);
    const struct scan_entry *entries;
    assert_int_equal(scan_wait(current, &entries, count), 0);
    return entries;
}

static void scan_wait__folders_in_byte_order_with_checksums(void **state)
{
    (void)state;
    folder("20240102000000_b", "SELECT 1;\n");
    folder("20240101000000_a", "SELECT 1;\n");
    folder("20240101000000_B", "SELECT 1;\n");                  /* 'B' < 'a' */
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/migration_lock.toml", dir);  /* a file: not a migration */
    fclose(fopen(path, "w"));
    size_t n;
    const struct scan_entry *e = scan_all(&n);
    assert_int_equal(n, 3);
    assert_string_equal(e[0].name, "20240101000000_B");
    assert_string_equal(e[1].name, "20240101000000_a");
    assert_string_equal(e[2].name, "20240102000000_b");
    for (size_t i = 0; i < n; i++) {
        assert_null(e[i].problem);
        assert_int_equal(e[i].size, 10);
        assert_int_equal(strlen(e[i].checksum), 64);
        assert_string_equal(e[i].checksum, e[0].checksum);
    }
    assert_false(e[0].conventional);                             /* uppercase */
    assert_true(e[1].conventional);
}

static void scan_wait__folders_that_cannot_be_migrations(void **state)
{
    (void)state;
    char path[PATH_MAX], target[PATH_MAX];
    folder("a_no_sql", NULL);
    folder("b_fifo", NULL);
    snprintf(path, sizeof path, "%s/b_fifo/migration.sql", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    folder("c_big", NULL);
    snprintf(path, sizeof path, "%s/c_big/migration.sql", dir);
    int fd = open(path, O_WRONLY | O_CREAT, 0600);
    assert_int_equal(ftruncate(fd, (8L << 20) + 1), 0);           /* sparse: 8 MiB and a byte */
    close(fd);
    snprintf(path, sizeof path, "%s/d_dangling", dir);
    assert_int_equal(symlink("/nonexistent/stallmig", path), 0);
    folder("e_sql_dir", NULL);
    snprintf(path, sizeof path, "%s/e_sql_dir/migration.sql", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    folder("f_linked_sql", NULL);
    snprintf(path, sizeof path, "%s/f_linked_sql/migration.sql", dir);
    assert_int_equal(symlink("/nonexistent/migration.sql", path), 0);
    folder("g_real", "SELECT 1;\n");
    snprintf(path, sizeof path, "%s/h_link_to_g", dir);
    snprintf(target, sizeof target, "%s/g_real", dir);
    assert_int_equal(symlink(target, path), 0);                   /* the same migration twice */
    size_t n;
    const struct scan_entry *e = scan_all(&n);
    assert_int_equal(n, 8);
    assert_string_equal(e[0].problem, "has no migration.sql");
    assert_string_equal(e[1].problem, "migration.sql is not a regular file");
    assert_string_equal(e[2].problem, "migration.sql is larger than 8 MiB, the most stallrun applies");
    assert_true(e[2].too_large);
    assert_int_equal(e[2].size, (8L << 20) + 1);
    assert_string_equal(e[3].problem, "is a symbolic link to something that does not exist");
    assert_string_equal(e[4].problem, "migration.sql is not a regular file");
    assert_string_equal(e[5].problem, "migration.sql is a symbolic link to a file that does not exist");
    assert_null(e[6].problem);
    assert_non_null(e[7].problem);                                /* test_scan.c: links refused */
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(e[i].checksum, "");
}

static void scan_wait__a_name_that_cannot_be_a_migration(void **state)
{
    (void)state;
    folder(".hidden", "SELECT 1;\n");
    size_t n;
    const struct scan_entry *e = scan_all(&n);
    assert_int_equal(n, 1);
    assert_non_null(e[0].problem);
    assert_string_equal(e[0].checksum, "");
}

static void scan_wait__many_folders_read_on_two_threads(void **state)
{
    (void)state;
    char name[64];
    for (int i = 199; i >= 0; i--) {
        snprintf(name, sizeof name, "20240101%06d_m", i);
        folder(name, "SELECT 1;\n");
    }
    size_t n;
    const struct scan_entry *e = scan_all(&n);
    assert_int_equal(n, 200);
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof name, "20240101%06zu_m", i);
        assert_string_equal(e[i].name, name);
        assert_null(e[i].problem);
        assert_string_equal(e[i].checksum, e[0].checksum);
    }
}

static int by_strcmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sort compares the first 16 bytes as numbers and only then the
 * strings: names shorter than 16 bytes, names equal over 16 bytes and more,
 * bytes above 0x7f (unsigned, as strcmp), and more folders than the list's
 * first allocation (256) come out as strcmp orders them. */
static void scan_wait__names_sorted_as_strcmp_sorts_them(void **state)
{
    (void)state;
    static const char *const edge[] = {
        "2024", "20240101000000", "20240101000000_", "20240101000000_a", "20240101000000_ab",
        "20240101000000_abc_long_tail_y", "20240101000000_abc_long_tail_x",
        "20240101000000_\xc3\xa9", "20240101000000_z", "2024010100000~", "20240101000000_A",
    };
    enum { EDGE = sizeof edge / sizeof edge[0], MANY = 300 };
    char *names[EDGE + MANY];
    for (size_t i = 0; i < EDGE; i++)
        names[i] = strdup(edge[i]);
    for (int i = 0; i < MANY; i++) {
        char name[64];
        unsigned r = (unsigned)i * 2654435761u;                 /* not in order */
        snprintf(name, sizeof name, "202401%02u%06u_%c%03d%s", r % 3u, r / 3u % 1000000u,
                 'a' + (int)(r % 26u), i, i % 3 ? "_same_long_suffix" : "");
        names[EDGE + i] = strdup(name);
    }
    for (size_t i = 0; i < EDGE + MANY; i++)
        folder(names[i], "SELECT 1;\n");
    qsort(names, EDGE + MANY, sizeof names[0], by_strcmp);
    size_t n;
    const struct scan_entry *e = scan_all(&n);
    assert_int_equal(n, EDGE + MANY);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(e[i].name, names[i]);
        free(names[i]);
    }
}

static void scan_wait__empty_folder(void **state)
{
    (void)state;
    size_t n = 99;
    scan_all(&n);
    assert_int_equal(n, 0);
}

static void scan_wait__missing_folder_is_its_errno(void **state)
{
    (void)state;
    struct scan *s = scan_start("/nonexistent/stallmig-migrations", NULL);
    const struct scan_entry *entries;
    size_t n;
    assert_int_equal(scan_wait(s, &entries, &n), ENOENT);
    assert_int_equal(scan_wait(s, &entries, &n), ENOENT);         /* waiting twice is fine */
    scan_free(s);
    scan_free(NULL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
    const struct CMUnitTest tests[] = {
        T(scan_wait__folders_in_byte_order_with_checksums),
        T(scan_wait__folders_that_cannot_be_migrations),
        T(scan_wait__a_name_that_cannot_be_a_migration),
        T(scan_wait__many_folders_read_on_two_threads),
        T(scan_wait__names_sorted_as_strcmp_sorts_them),
        T(scan_wait__empty_folder),
        T(scan_wait__missing_folder_is_its_errno),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
