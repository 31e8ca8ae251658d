/* test_scan_cache.c — checksums remembered under each file's stat: what is
 * trusted, what is hashed again, and a cache file that is not one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "migration.h"
#include "scan.h"
#include "scan_cache.h"
#include "readfile.h"

#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64], migrations[128], cache_path[128];

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/stallmig-cache-test.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(migrations, sizeof migrations, "%s/migrations", dir);
    snprintf(cache_path, sizeof cache_path, "%s/.stallmig/checksums", dir);
    return mkdir(migrations, 0755);
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* migrations/<name>/migration.sql holding sql; its path in out. */
static void migration(const char *name, const char *sql, char out[PATH_MAX])
{
    snprintf(out, PATH_MAX, "%s/%s", migrations, name);
    assert_int_equal(mkdir(out, 0755), 0);
    strcat(out, "/migration.sql");
    write_file(out, sql);
}

static struct file_stamp stamp_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    struct file_stamp s;
    file_stamp_of(&st, &s);
    return s;
}

static struct scan_cache_entry entry(char *name, char fill, const struct file_stamp *stamp)
{
    struct scan_cache_entry e = {.name = name, .key = 0x0123456789abcdefULL, .stamp = *stamp};
    memset(e.checksum, fill, HASH_HEX_LEN);
    e.checksum[HASH_HEX_LEN] = '\0';
    return e;
}

static void migration_key__first_eight_bytes_of_the_sha256_big_endian(void **state)
{
    (void)state;
    char zeros[HASH_HEX_LEN + 1];
    memset(zeros, '0', HASH_HEX_LEN);
    zeros[HASH_HEX_LEN] = '\0';
    uint64_t key;
    assert_int_equal(migration_key("20240101000000_init", zeros, &key), 0);
    assert_true(key == 0x935b0aeaf12e6a77ULL);   /* python3: sha256(b"20240101000000_init 000...") */
}

static void scan_cache__saved_and_found_by_name_and_whole_stamp(void **state)
{
    (void)state;
    struct file_stamp s = {.size = 10, .mtime_sec = 100, .mtime_nsec = 5, .ctime_sec = 100,
                           .ctime_nsec = 6, .ino = 77, .dev = 3};
    struct scan_cache_entry two[] = {entry("20240101000000_a", 'a', &s), entry("2024 b with spaces", 'b', &s)};
    /* sorted byte-wise, as scan_cache_save expects: "2024 b" < "20240101..." */
    struct scan_cache_entry sorted[] = {two[1], two[0]};
    struct scan_cache written = {sorted, 2};
    assert_int_equal(scan_cache_save(cache_path, &written), 0);
    struct stat st;
    assert_int_equal(stat(cache_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    struct scan_cache read;
    scan_cache_load(cache_path, &read);
    assert_int_equal(read.count, 2);
    const struct scan_cache_entry *found = scan_cache_find(&read, "2024 b with spaces", &s);
    assert_non_null(found);
    assert_int_equal(found->checksum[0], 'b');
    assert_true(found->key == 0x0123456789abcdefULL);
    assert_non_null(scan_cache_find(&read, "20240101000000_a", &s));
    assert_null(scan_cache_find(&read, "20240101000000_c", &s));
    long long *fields[] = {&s.size, &s.mtime_sec, &s.mtime_nsec, &s.ctime_sec, &s.ctime_nsec};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        (*fields[i])++;
        assert_null(scan_cache_find(&read, "20240101000000_a", &s));
        (*fields[i])--;
    }
    s.ino++;
    assert_null(scan_cache_find(&read, "20240101000000_a", &s));
    scan_cache_free(&read);
}

static void scan_cache__a_file_that_is_not_one_is_an_empty_cache(void **state)
{
    (void)state;
    struct scan_cache read;
    const char *texts[] = {
        "not a cache\n",
        "stallmig-checksums 1\n" /* a line cut short */ "abc 12 3\n",
        "stallmig-checksums 1\n" /* not sorted */
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 0000000000000001 1 1 1 1 1 1 1 b\n"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 0000000000000001 1 1 1 1 1 1 1 a\n",
    };
    char folder[PATH_MAX];
    snprintf(folder, sizeof folder, "%s/.stallmig", dir);
    assert_int_equal(mkdir(folder, 0700), 0);
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        write_file(cache_path, texts[i]);
        scan_cache_load(cache_path, &read);
        assert_int_equal(read.count, 0);
        scan_cache_free(&read);
    }
    scan_cache_load("/nonexistent/stallmig/checksums", &read);
    assert_int_equal(read.count, 0);
    scan_cache_load(NULL, &read);
    assert_int_equal(read.count, 0);
}

/* The numbers are read by hand: every value the writer can write comes back
 * (a time before 1970, the largest inode and device), a last line without
 * its newline and an empty line are read; what the writer never writes (a
 * '+', upper-case hex, a number too large, a NUL in a name) makes the whole
 * file untrusted. */
static void scan_cache__reads_back_every_value_the_writer_writes(void **state)
{
    (void)state;
    struct file_stamp s = {.size = 0, .mtime_sec = -5, .mtime_nsec = 999999999, .ctime_sec = LLONG_MAX,
                           .ctime_nsec = 0, .ino = ULLONG_MAX, .dev = ULLONG_MAX};
    struct scan_cache_entry one[] = {entry("20240101000000_a", 'c', &s)};
    one[0].key = 0xffffffffffffffffULL;
    struct scan_cache written = {one, 1};
    assert_int_equal(scan_cache_save(cache_path, &written), 0);
    struct scan_cache read;
    scan_cache_load(cache_path, &read);
    assert_int_equal(read.count, 1);
    assert_non_null(scan_cache_find(&read, "20240101000000_a", &s));
    assert_true(read.entries[0].key == 0xffffffffffffffffULL);
    scan_cache_free(&read);
    /* the writer formats by hand: byte for byte what printf wrote before */
    s.mtime_sec = LLONG_MIN;
    one[0] = entry("20240101000000_a", 'c', &s);
    one[0].key = 0x0123456789abcdefULL;
    assert_int_equal(scan_cache_save(cache_path, &written), 0);
    char expected[600], *saved;
    snprintf(expected, sizeof expected,
             "stallmig-checksums 1\n%s %016" PRIx64 " %lld %lld %lld %lld %lld %llu %llu %s\n",
             one[0].checksum, one[0].key, s.size, s.mtime_sec, s.mtime_nsec, s.ctime_sec,
             s.ctime_nsec, s.ino, s.dev, "20240101000000_a");
    size_t saved_len;
    saved = readfile(cache_path, 0, 4096, &saved_len);
    assert_non_null(saved);
    assert_string_equal(saved, expected);
    free(saved);

    char line[400];
    snprintf(line, sizeof line, "%.*s 00000000000000ff 1 2 3 4 5 6 7 ", HASH_HEX_LEN,
             "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd");
    char text[1200];
    snprintf(text, sizeof text, "stallmig-checksums 1\n%sa\n\n%sb", line, line);   /* no newline at the end */
    write_file(cache_path, text);
    scan_cache_load(cache_path, &read);
    assert_int_equal(read.count, 2);
    assert_string_equal(read.entries[1].name, "b");
    assert_true(read.entries[0].key == 0xff);
    assert_int_equal(read.entries[0].stamp.ctime_nsec, 5);
    scan_cache_free(&read);

    const char *bad[] = {" 00000000000000ff +1 2 3 4 5 6 7 a", " 00000000000000FF 1 2 3 4 5 6 7 a",
                         " 00000000000000ff 1 2 3 4 5 6 99999999999999999999999 a",
                         " 00000000000000ff 1 2 3 4 5 6 -7 a", " 00000000000000ff 1 2 3 4 5 6 7 "};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(text, sizeof text, "stallmig-checksums 1\n%.*s%s\n", HASH_HEX_LEN,
                 "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd", bad[i]);
        write_file(cache_path, text);
        scan_cache_load(cache_path, &read);
        assert_int_equal(read.count, 0);
        scan_cache_free(&read);
    }
    char with_nul[] = "stallmig-checksums 1\n"
                      "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd 0 1 1 1 1 1 1 1 a\0b\n";
    int fd = open(cache_path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, with_nul, sizeof with_nul - 1), (ssize_t)(sizeof with_nul - 1));
    close(fd);
    scan_cache_load(cache_path, &read);
    assert_int_equal(read.count, 0);
}

static void scan_cache_settled__changed_within_the_settling_time_is_not_recorded(void **state)
{
    (void)state;
    struct timespec started = {.tv_sec = 1000};
    struct file_stamp s = {.mtime_sec = 1000 - SCAN_CACHE_SETTLE - 1, .ctime_sec = 1000 - SCAN_CACHE_SETTLE - 1};
    assert_true(scan_cache_settled(&s, &started));
    s.ctime_sec = 1000 - SCAN_CACHE_SETTLE;
    assert_false(scan_cache_settled(&s, &started));
    s.ctime_sec = 900, s.mtime_sec = 999;
    assert_false(scan_cache_settled(&s, &started));
}

/* A recorded checksum is what the scan reports while the stamp holds (the
 * cache says "ffff..." for a file that hashes to something else), and the
 * file is hashed again once its stamp moves — here only its change time,
 * as when it is rewritten with the same size and its mtime put back. */
static void scan__trusts_the_cache_until_the_stamp_moves(void **state)
{
    (void)state;
    char path[PATH_MAX];
    migration("20240101000000_a", "CREATE TABLE a (id int);", path);
    struct file_stamp s = stamp_of(path);
    struct scan_cache_entry e = entry("20240101000000_a", 'f', &s);
    struct scan_cache forged = {&e, 1};
    assert_int_equal(scan_cache_save(cache_path, &forged), 0);

    struct scan *scan = scan_start(migrations, cache_path);
    struct scan_summary sum;
    assert_int_equal(scan_summary(scan, &sum), 0);
    const struct scan_entry *entries;
    size_t n;
    scan_wait(scan, &entries, &n);
    assert_int_equal(n, 1);
    assert_int_equal(entries[0].checksum[0], 'f');
    assert_int_equal(sum.hashed, 0);
    scan_free(scan);

    sleep(1);                                 /* a change time the old stamp cannot have */
    struct stat before;
    assert_int_equal(stat(path, &before), 0);
    write_file(path, "CREATE TABLE b (id int);");
    struct timespec times[2] = {before.st_atim, before.st_mtim};
    assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
    scan = scan_start(migrations, cache_path);
    assert_int_equal(scan_summary(scan, &sum), 0);
    scan_wait(scan, &entries, &n);
    assert_int_not_equal(entries[0].checksum[0], 'f');
    assert_int_equal(sum.hashed, 1);
    uint64_t key;
    assert_int_equal(migration_key("20240101000000_a", entries[0].checksum, &key), 0);
    assert_true(sum.key == key && sum.count == 1 && sum.clean);
    scan_free(scan);
}

/* Files written just now are not recorded (they could still change within
 * the clock's tick); the summary XORs every key and is clean only when no
 * folder has a problem or an unconventional name. */
static void scan__records_only_settled_files_and_sums_up(void **state)
{
    (void)state;
    char a[PATH_MAX], b[PATH_MAX];
    migration("20240101000000_a", "SELECT 1;", a);
    migration("20240101000001_b", "SELECT 2;", b);
    struct scan *scan = scan_start(migrations, cache_path);
    struct scan_summary sum;
    assert_int_equal(scan_summary(scan, &sum), 0);
    assert_int_equal(sum.count, 2);
    assert_int_equal(sum.hashed, 2);
    assert_true(sum.clean);
    const struct scan_entry *e;
    size_t n;
    scan_wait(scan, &e, &n);
    assert_true(sum.key == (e[0].key ^ e[1].key));
    scan_free(scan);
    struct scan_cache read;
    scan_cache_load(cache_path, &read);
    assert_int_equal(read.count, 0);
    scan_cache_free(&read);

    char odd[PATH_MAX];
    migration("Not_Conventional", "SELECT 3;", odd);
    scan = scan_start(migrations, NULL);
    assert_int_equal(scan_summary(scan, &sum), 0);
    assert_int_equal(sum.count, 3);
    assert_false(sum.clean);
    scan_free(scan);
}

#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(migration_key__first_eight_bytes_of_the_sha256_big_endian),
        T(scan_cache__saved_and_found_by_name_and_whole_stamp),
        T(scan_cache__a_file_that_is_not_one_is_an_empty_cache),
        T(scan_cache__reads_back_every_value_the_writer_writes),
        T(scan_cache_settled__changed_within_the_settling_time_is_not_recorded),
        T(scan__trusts_the_cache_until_the_stamp_moves),
        T(scan__records_only_settled_files_and_sums_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
