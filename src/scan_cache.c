/* scan_cache.c — checksums remembered under each file's stat (see scan_cache.h).
 *
 * The file is text, one migration a line, sorted by name:
 *   stallmig-checksums 1
 *   <checksum> <key, 16 hex> <size> <mtime s> <ns> <ctime s> <ns> <inode> <device> <name>
 */
#include "scan_cache.h"
#include "migration.h"
#include "readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEADER "stallmig-checksums 1\n"
#define MAX_CACHE_BYTES (64L << 20)

void file_stamp_of(const struct stat *st, struct file_stamp *out)
{
    out->size = (long long)st->st_size;
    out->mtime_sec = (long long)st->st_mtim.tv_sec;
    out->mtime_nsec = (long long)st->st_mtim.tv_nsec;
    out->ctime_sec = (long long)st->st_ctim.tv_sec;
    out->ctime_nsec = (long long)st->st_ctim.tv_nsec;
    out->ino = (unsigned long long)st->st_ino;
    out->dev = (unsigned long long)st->st_dev;
}

bool file_stamp_equal(const struct file_stamp *a, const struct file_stamp *b)
{
    return a->size == b->size && a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec &&
           a->ctime_sec == b->ctime_sec && a->ctime_nsec == b->ctime_nsec && a->ino == b->ino &&
           a->dev == b->dev;
}

bool scan_cache_settled(const struct file_stamp *stamp, const struct timespec *started)
{
    return stamp->ctime_sec + SCAN_CACHE_SETTLE < (long long)started->tv_sec &&
           stamp->mtime_sec + SCAN_CACHE_SETTLE < (long long)started->tv_sec;
}

/* The number that starts *p (decimal, a '-' first where it may be
 * negative; or hex, lower case, as scan_cache_save writes them), then one
 * space; *p moved past both. False when there is none, or it overflows.
 * By hand, as the rest of the line: strtoll and strtoull were a third of a
 * no-op's instructions at 10,000 migrations. */
static bool field(const char **p, const char *end, bool hex, bool is_signed, unsigned long long *out)
{
    const char *s = *p;
    bool negative = is_signed && s < end && *s == '-';
    s += negative;
    const char *digits = s;
    unsigned long long v = 0, base = hex ? 16 : 10;
    for (; s < end && *s != ' '; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (hex && *s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else
            return false;
        if (__builtin_mul_overflow(v, base, &v) || __builtin_add_overflow(v, d, &v))
            return false;
    }
    if (s == digits || s == end || (is_signed && v > (unsigned long long)LLONG_MAX))
        return false;
    *out = negative ? (unsigned long long)-(long long)v : v;
    *p = s + 1;
    return true;
}

/* The line [line, end) into e (its name malloc'd); false when it is not
 * one. (By hand: sscanf cost more than the rest of a scan that finds every
 * file cached.) */
static bool parse_line(const char *line, const char *end, struct scan_cache_entry *e)
{
    if (end - line < HASH_HEX_LEN + 2 || line[HASH_HEX_LEN] != ' ')
        return false;
    memcpy(e->checksum, line, HASH_HEX_LEN);
    e->checksum[HASH_HEX_LEN] = '\0';
    const char *p = line + HASH_HEX_LEN + 1;
    unsigned long long v[8];         /* key, size, mtime s ns, ctime s ns, inode, device */
    for (int i = 0; i < 8; i++)
        if (!field(&p, end, i == 0, i >= 1 && i <= 5, &v[i]))
            return false;
    struct file_stamp *s = &e->stamp;
    e->key = v[0];
    s->size = (long long)v[1], s->mtime_sec = (long long)v[2], s->mtime_nsec = (long long)v[3];
    s->ctime_sec = (long long)v[4], s->ctime_nsec = (long long)v[5];
    s->ino = v[6], s->dev = v[7];
    return p < end && memchr(p, '\0', (size_t)(end - p)) == NULL &&
           (e->name = strndup(p, (size_t)(end - p))) != NULL;
}

void scan_cache_load(const char *path, struct scan_cache *cache)
{
    cache->entries = NULL;
    cache->count = 0;
    size_t len = 0;
    char *text = path ? readfile(path, O_NOFOLLOW, MAX_CACHE_BYTES, &len) : NULL;
    if (text == NULL || strncmp(text, HEADER, strlen(HEADER)) != 0) {
        free(text);
        return;
    }
    const char *at = text + strlen(HEADER), *end = text + len;
    size_t lines = 1;
    for (const char *p = at; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
        lines++;
    cache->entries = calloc(lines, sizeof *cache->entries);
    bool whole = cache->entries != NULL;
    while (whole && at < end) {
        const char *eol = memchr(at, '\n', (size_t)(end - at));
        const char *line_end = eol ? eol : end;
        struct scan_cache_entry *e = &cache->entries[cache->count];
        if (line_end == at)
            ;                        /* an empty line */
        else if (!parse_line(at, line_end, e))
            whole = false;
        else if (cache->count++ > 0 && strcmp(e[-1].name, e->name) >= 0)
            whole = false;           /* not sorted: not a file scan_cache_save wrote */
        at = line_end + (eol != NULL);
    }
    free(text);
    if (!whole)                      /* trust all of it or none */
        scan_cache_free(cache);
}

const struct scan_cache_entry *scan_cache_find(const struct scan_cache *cache, const char *name,
                                               const struct file_stamp *stamp)
{
    size_t lo = 0, hi = cache->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(cache->entries[mid].name, name);
        if (cmp == 0)
            return file_stamp_equal(&cache->entries[mid].stamp, stamp) ? &cache->entries[mid] : NULL;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Number formatting by hand, as the reading: fprintf was most of writing
 * the cache (a fresh checkout writes a line for every migration). */
static char *put_unsigned(char *p, unsigned long long v)
{
    char digits[20];
    int n = 0;
    do
        digits[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n > 0)
        *p++ = digits[--n];
    *p++ = ' ';
    return p;
}

static char *put_signed(char *p, long long v)
{
    if (v < 0) {
        *p++ = '-';
        return put_unsigned(p, -(unsigned long long)v);
    }
    return put_unsigned(p, (unsigned long long)v);
}

/* One line of the file (see the top), without a NUL; its length. */
static size_t format_line(char *line, const struct scan_cache_entry *e)
{
    static const char hex[] = "0123456789abcdef";
    const struct file_stamp *s = &e->stamp;
    char *p = line;
    memcpy(p, e->checksum, HASH_HEX_LEN);
    p += HASH_HEX_LEN;
    *p++ = ' ';
    for (int shift = 60; shift >= 0; shift -= 4)
        *p++ = hex[(e->key >> shift) & 0xf];
    *p++ = ' ';
    p = put_signed(p, s->size);
    p = put_signed(p, s->mtime_sec);
    p = put_signed(p, s->mtime_nsec);
    p = put_signed(p, s->ctime_sec);
    p = put_signed(p, s->ctime_nsec);
    p = put_unsigned(p, s->ino);
    p = put_unsigned(p, s->dev);
    size_t name = strnlen(e->name, MIGRATION_NAME_MAX);
    memcpy(p, e->name, name);
    p += name;
    *p++ = '\n';
    return (size_t)(p - line);
}

/* The directory of path, made 0700 when missing. */
static void make_parent(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (slash == NULL || (size_t)(slash - path) >= sizeof dir)
        return;
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return;
}

int scan_cache_save(const char *path, const struct scan_cache *cache)
{
    char temp[PATH_MAX];
    if (snprintf(temp, sizeof temp, "%s.XXXXXX", path) >= (int)sizeof temp)
        return -1;
    make_parent(path);
    int fd = mkstemp(temp);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        unlink(temp);
        return -1;
    }
    fputs(HEADER, f);
    char line[HASH_HEX_LEN + 8 * 22 + MIGRATION_NAME_MAX + 8];
    for (size_t i = 0; i < cache->count; i++)
        fwrite(line, 1, format_line(line, &cache->entries[i]), f);
    bool ok = !ferror(f);
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(temp, path) != 0) {
        unlink(temp);
        return -1;
    }
    return 0;
}

void scan_cache_free(struct scan_cache *cache)
{
    for (size_t i = 0; i < cache->count; i++)
        free(cache->entries[i].name);
    free(cache->entries);
    cache->entries = NULL;
    cache->count = 0;
}
