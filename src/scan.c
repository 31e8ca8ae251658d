/* scan.c — list, read and hash migration folders (see scan.h). */
#include "scan.h"

#include "migration.h"
#include "scan_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <stdio.h>
#include <unistd.h>

/* A migration file larger than this is refused before it is read: it is
 * almost certainly a data dump, and reading, parsing and sending it would
 * take several times its size in memory. */
#define SCAN_MAX_FILE (8L << 20)
#define SCAN_MAX_FILE_TEXT "8 MiB"

#ifndef SCAN_SPLIT_AT
#define SCAN_SPLIT_AT 64
#endif

/* Which file a migration.sql is, once links are followed. */
struct file_id {
    dev_t dev;
    ino_t ino;
    size_t index;                    /* of its entry */
};

struct scan {
    char *dir;
    char *cache_path;                /* the checksum cache (scan_cache.h), or NULL */
    pthread_t thread;
    bool threaded;
    pthread_mutex_t lock;            /* guards ready */
    pthread_cond_t became_ready;
    bool ready;                      /* entries final: scan_wait returns while the cache is written */
    int error;                       /* errno of listing dir, or 0 */
    struct scan_entry *entries;
    struct file_id *ids;             /* [count], of the entries read without a problem */
    struct file_stamp *stamps;       /* [count], of each migration.sql stat'ed */
    const struct scan_cache_entry **known; /* [count], each entry's in the cache, or NULL */
    size_t count;
    size_t hashed;                   /* files read and hashed (the rest came from the cache) */
    struct scan_cache cache;
    struct timespec started;
};

/* What a migration.sql is, before it is read: a regular file of at most
 * SCAN_MAX_FILE bytes (links followed). Anything else is refused before it
 * is opened: a FIFO, a device (/dev/zero would fill memory), a file too
 * large (EFBIG, *size set). Returns 0 or an errno value; EINVAL means not a
 * regular file. */
static int stat_file_at(int dirfd, const char *path, struct stat *st, size_t *size)
{
    if (fstatat(dirfd, path, st, 0) != 0)
        return errno;
    if (!S_ISREG(st->st_mode))
        return S_ISDIR(st->st_mode) ? EISDIR : EINVAL;
    *size = (size_t)st->st_size;
    return st->st_size > SCAN_MAX_FILE ? EFBIG : 0;
}

/* Reads the whole file stat_file_at found: open, read, close (a short read
 * of a regular file is its end: one that stops at the size stat gave ends
 * the reading without a second read to see 0, which was one of five
 * system calls a file). O_NONBLOCK: should it have become a FIFO since,
 * opening it must not hang. Returns 0 or an errno value. */
static int read_file_at(int dirfd, const char *path, const struct stat *st, char **data,
                        size_t *len)
{
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return errno;
    size_t cap = (size_t)st->st_size + 1, n = 0;
    char *buf = malloc(cap);
    ssize_t got = 1;
    while (buf != NULL && n < cap && (got = read(fd, buf + n, cap - n)) > 0) {
        n += (size_t)got;
        if (n == (size_t)st->st_size)
            break;                   /* one byte short of the request: the end */
    }
    int err = buf == NULL ? ENOMEM : got < 0 ? errno : n == cap ? EAGAIN : 0;
    close(fd);
    if (err != 0) {
        free(buf);
        return err == EAGAIN ? EBUSY : err;   /* EBUSY: it grew while we read it */
    }
    *data = buf;
    *len = n;
    return 0;
}

/* Why a migration.sql that could not be read is a problem, in words. */
static const char *read_problem(int dirfd, const char *path, int err)
{
    struct stat st;
    switch (err) {
    case ENOENT:
        if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
            return "migration.sql is a symbolic link to a file that does not exist";
        return "has no migration.sql";
    case ELOOP: return "migration.sql is a symbolic link that loops";
    case EISDIR: case EINVAL: return "migration.sql is not a regular file";
    case EACCES: case EPERM: return "migration.sql cannot be read: permission denied";
    case EFBIG: return "migration.sql is larger than " SCAN_MAX_FILE_TEXT ", the most stallrun applies";
    case EBUSY: return "migration.sql changed size while it was read";
    default: return strerror(err);
    }
}

/* The checksum and key of the file at path: from the cache when its stamp
 * is the one recorded (known), else read and hashed (*hashed set). 0 or an
 * errno value. */
static int checksum_of(int dirfd, const char *path, const struct stat *st,
                       const struct scan_cache_entry *known, struct scan_entry *e,
                       const struct file_stamp *stamp, bool *hashed)
{
    if (known != NULL && file_stamp_equal(&known->stamp, stamp)) {
        memcpy(e->checksum, known->checksum, sizeof e->checksum);
        e->key = known->key;
        return 0;
    }
    char *data = NULL;
    size_t len = 0;
    int err = read_file_at(dirfd, path, st, &data, &len);
    if (err == 0 && (hash_sha256_hex(data, len, e->checksum) != 0 ||
                     migration_key(e->name, e->checksum, &e->key) != 0))
        err = EIO;
    free(data);
    *hashed = err == 0;
    return err;
}

/* "<name>/migration.sql" into path[size] (names are at most
 * MIGRATION_NAME_MAX bytes, checked before). */
static void sql_path(char *path, size_t size, const char *name)
{
    static const char file[] = "/migration.sql";
    size_t len = strlen(name);
    if (len + sizeof file > size)
        len = size - sizeof file;
    memcpy(path, name, len);
    memcpy(path + len, file, sizeof file);
}

static void scan_folder(int dirfd, const struct scan_cache_entry *known, struct scan_entry *e,
                        struct file_id *id, struct file_stamp *stamp, bool *hashed)
{
    e->conventional = migration_name_is_conventional(e->name);
    if (e->problem != NULL || (e->problem = migration_name_problem(e->name)) != NULL)
        return;
    char path[MIGRATION_NAME_MAX + 32];
    struct stat st;
    sql_path(path, sizeof path, e->name);
    int err = stat_file_at(dirfd, path, &st, &e->size);
    if (err == 0) {
        id->dev = st.st_dev;
        id->ino = st.st_ino;
        file_stamp_of(&st, stamp);
        err = checksum_of(dirfd, path, &st, known, e, stamp, hashed);
    }
    e->too_large = err == EFBIG;
    if (err != 0) {
        e->checksum[0] = '\0';
        e->problem = read_problem(dirfd, path, err);
    }
}

/* A folder's name as listed, with its first 16 bytes as two big-endian
 * numbers (NUL-padded): comparing those orders most names (a timestamp
 * first) as strcmp does, without reading the strings; equal ones are
 * compared with strcmp. Sorting these, not the entries (120 bytes each),
 * took the sort of 10,000 names from 2-4 ms to a fraction of one. */
struct listed {
    uint64_t hi, lo;
    char *name;
    const char *problem;
};

static uint64_t big_endian(const unsigned char *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return v;
}

static void listed_key(struct listed *l)
{
    unsigned char prefix[16] = {0};
    memcpy(prefix, l->name, strnlen(l->name, sizeof prefix));
    l->hi = big_endian(prefix);
    l->lo = big_endian(prefix + 8);
}

static int by_name(const void *a, const void *b)
{
    const struct listed *x = a, *y = b;
    if (x->hi != y->hi)
        return x->hi < y->hi ? -1 : 1;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* A sub-folder (or a symbolic link to one: followed, as git checks them
 * out), or a link that leads nowhere (*problem set: a migration would be
 * missed without a word). */
static bool is_directory(int dirfd, const struct dirent *d, const char **problem)
{
    struct stat st;
    *problem = NULL;
    if (d->d_type == DT_DIR)
        return true;
    if (d->d_type != DT_UNKNOWN && d->d_type != DT_LNK)
        return false;
    if (fstatat(dirfd, d->d_name, &st, 0) == 0)
        return S_ISDIR(st.st_mode);
    if ((errno == ENOENT || errno == ELOOP) &&
        fstatat(dirfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
        *problem = errno == ELOOP ? "is a symbolic link that loops"
                                  : "is a symbolic link to something that does not exist";
        return true;
    }
    return false;
}

/* The sub-folders of d, sorted byte-wise by name, into s->entries; plain
 * files (migration_lock.toml) are skipped. */
static int list_folders(struct scan *s, DIR *d)
{
    size_t cap = 256, count = 0;
    struct listed *found = malloc(cap * sizeof *found), *grown;
    struct dirent *e;
    int error = found ? 0 : ENOMEM;
    while (error == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        const char *problem;
        if (!is_directory(dirfd(d), e, &problem))
            continue;
        if (count == cap) {
            if ((grown = realloc(found, 2 * cap * sizeof *grown)) == NULL) {
                error = ENOMEM;
                break;
            }
            found = grown;
            cap *= 2;
        }
        struct listed *l = &found[count];
        if ((l->name = strdup(e->d_name)) == NULL) {
            error = ENOMEM;
            break;
        }
        l->problem = problem;
        listed_key(l);
        count++;
    }
    if (error == 0) {
        qsort(found, count, sizeof *found, by_name);
        s->entries = calloc(count + 1, sizeof *s->entries);
        error = s->entries ? 0 : ENOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        if (error == 0) {
            s->entries[i].name = found[i].name;
            s->entries[i].problem = found[i].problem;
        } else {
            free(found[i].name);
        }
    }
    s->count = error == 0 ? count : 0;
    free(found);
    return error;
}

/* A share of the folders to read: entries [from, to). */
struct share {
    int dirfd;
    struct scan *s;
    size_t from, to;
    size_t hashed;
};

static void *read_share(void *arg)
{
    struct share *sh = arg;
    struct scan *s = sh->s;
    for (size_t i = sh->from; i < sh->to; i++) {
        bool hashed = false;
        s->ids[i].index = i;
        scan_folder(sh->dirfd, s->known[i], &s->entries[i], &s->ids[i], &s->stamps[i], &hashed);
        sh->hashed += hashed;
    }
    return NULL;
}

/* Reads every folder, the second half on a helper thread when there are
 * enough of them: the cost is system calls, and a second core is there. */
static void read_all(struct scan *s, int dirfd)
{
    size_t half = s->count >= SCAN_SPLIT_AT ? s->count / 2 : s->count;
    struct share first = {dirfd, s, 0, half, 0};
    struct share second = {dirfd, s, half, s->count, 0};
    pthread_t helper;
    bool helped = half < s->count && pthread_create(&helper, NULL, read_share, &second) == 0;
    read_share(&first);
    if (helped)
        pthread_join(helper, NULL);
    else
        read_share(&second);
    s->hashed = first.hashed + second.hashed;
}

static int by_file(const void *a, const void *b)
{
    const struct file_id *x = a, *y = b;
    if (x->dev != y->dev)
        return x->dev < y->dev ? -1 : 1;
    if (x->ino != y->ino)
        return x->ino < y->ino ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Whether folder `name` or its migration.sql is a symbolic link. */
static bool is_link(int dirfd, const char *name)
{
    struct stat st;
    char path[MIGRATION_NAME_MAX + 32];
    sql_path(path, sizeof path, name);
    return (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) ||
           (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode));
}

/* Folders whose migration.sql is one file (same device and inode, links
 * followed): all but one get a problem naming it, the one kept being the
 * first that is not a link (else the first by name). Sorting the read files
 * by (device, inode) puts them side by side. */
static void refuse_shared_files(struct scan *s, int dirfd)
{
    size_t n = 0;
    for (size_t i = 0; i < s->count; i++)
        if (s->entries[i].problem == NULL)
            s->ids[n++] = s->ids[i];
    qsort(s->ids, n, sizeof *s->ids, by_file);
    for (size_t from = 0, to; from < n; from = to) {
        for (to = from + 1; to < n && s->ids[to].dev == s->ids[from].dev &&
                            s->ids[to].ino == s->ids[from].ino; to++)
            ;
        if (to - from < 2)
            continue;
        size_t kept = s->ids[from].index;
        for (size_t k = from; k < to; k++)
            if (!is_link(dirfd, s->entries[s->ids[k].index].name)) {
                kept = s->ids[k].index;
                break;
            }
        for (size_t k = from; k < to; k++) {
            struct scan_entry *e = &s->entries[s->ids[k].index];
            if (s->ids[k].index == kept)
                continue;
            e->problem = "migration.sql is the same file as another migration's";
            e->same_as = s->entries[kept].name;
            e->checksum[0] = '\0';
        }
    }
}

/* Whether entry i goes into the cache: a settled file without a problem. */
static bool cacheable(const struct scan *s, size_t i)
{
    return s->entries[i].problem == NULL && scan_cache_settled(&s->stamps[i], &s->started);
}

/* Whether the cache should be written again: an entry it does not hold as
 * it is now, or one it holds that is gone. (Asked before a copy is made: at
 * 10,000 migrations the copy alone cost most of a millisecond.) */
static bool cache_differs(const struct scan *s)
{
    size_t kept = 0;
    for (size_t i = 0; i < s->count; i++) {
        if (!cacheable(s, i))
            continue;
        if (s->known[i] == NULL || !file_stamp_equal(&s->known[i]->stamp, &s->stamps[i]))
            return true;
        kept++;
    }
    return kept != s->cache.count;
}

/* Records what this scan read (settled files without a problem) for the
 * next run, when it differs from what the cache held. */
static void save_cache(struct scan *s)
{
    if (!cache_differs(s))
        return;
    struct scan_cache fresh = {calloc(s->count + 1, sizeof *fresh.entries), 0};
    for (size_t i = 0; fresh.entries && i < s->count; i++) {
        if (!cacheable(s, i))
            continue;
        const struct scan_entry *e = &s->entries[i];
        struct scan_cache_entry *c = &fresh.entries[fresh.count++];
        c->name = e->name;           /* borrowed: not freed with fresh */
        memcpy(c->checksum, e->checksum, sizeof c->checksum);
        c->key = e->key;
        c->stamp = s->stamps[i];
    }
    if (fresh.entries)
        scan_cache_save(s->cache_path, &fresh);
    free(fresh.entries);
}

/* Each entry's record in the cache, by name: both are sorted byte-wise, so
 * one pass over the two. */
static void match_cache(struct scan *s)
{
    size_t c = 0;
    for (size_t i = 0; i < s->count; i++) {
        int cmp = -1;
        while (c < s->cache.count && (cmp = strcmp(s->cache.entries[c].name, s->entries[i].name)) < 0)
            c++;
        s->known[i] = c < s->cache.count && cmp == 0 ? &s->cache.entries[c] : NULL;
    }
}

static void *load_cache(void *arg)
{
    struct scan *s = arg;
    scan_cache_load(s->cache_path, &s->cache);
    return NULL;
}

/* The entries are final: scan_wait may return. The thread goes on to
 * write the cache (a fresh checkout: a line a migration), which no longer
 * holds up the caller; scan_free waits for it. */
static void mark_ready(struct scan *s)
{
    pthread_mutex_lock(&s->lock);
    s->ready = true;
    pthread_cond_broadcast(&s->became_ready);
    pthread_mutex_unlock(&s->lock);
}

static void *scan_run(void *arg)
{
    struct scan *s = arg;
    clock_gettime(CLOCK_REALTIME, &s->started);
    pthread_t loader;                /* the cache is read while the folder is listed */
    bool loading = pthread_create(&loader, NULL, load_cache, s) == 0;
    DIR *d = opendir(s->dir);
    s->error = d ? list_folders(s, d) : errno;
    if (s->error == 0 && ((s->ids = calloc(s->count + 1, sizeof *s->ids)) == NULL ||
                          (s->stamps = calloc(s->count + 1, sizeof *s->stamps)) == NULL ||
                          (s->known = calloc(s->count + 1, sizeof *s->known)) == NULL))
        s->error = ENOMEM;
    if (loading)
        pthread_join(loader, NULL);
    else
        load_cache(s);
    if (s->error == 0) {
        match_cache(s);
        read_all(s, dirfd(d));
        refuse_shared_files(s, dirfd(d));
    }
    mark_ready(s);
    if (s->error == 0 && s->cache_path != NULL)
        save_cache(s);               /* reads entries, as the caller may now: neither writes them */
    scan_cache_free(&s->cache);
    free(s->known);
    s->known = NULL;
    if (d)
        closedir(d);
    return NULL;
}

struct scan *scan_start(const char *dir, const char *cache_path)
{
    struct scan *s = calloc(1, sizeof *s);
    if (s == NULL || (s->dir = strdup(dir)) == NULL ||
        (cache_path != NULL && (s->cache_path = strdup(cache_path)) == NULL)) {
        if (s)
            free(s->dir);
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->became_ready, NULL);
    s->threaded = pthread_create(&s->thread, NULL, scan_run, s) == 0;
    if (!s->threaded)
        scan_run(s);
    return s;
}

int scan_wait(struct scan *s, const struct scan_entry **entries, size_t *count)
{
    pthread_mutex_lock(&s->lock);
    while (!s->ready)
        pthread_cond_wait(&s->became_ready, &s->lock);
    pthread_mutex_unlock(&s->lock);
    *entries = s->entries;
    *count = s->count;
    return s->error;
}

void scan_free(struct scan *s)
{
    if (s == NULL)
        return;
    if (s->threaded)                 /* the entries, and the cache written */
        pthread_join(s->thread, NULL);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->became_ready);
    for (size_t i = 0; i < s->count; i++)
        free(s->entries[i].name);
    free(s->entries);
    free(s->ids);
    free(s->stamps);
    free(s->known);
    free(s->dir);
    free(s->cache_path);
    free(s);
}

const char *scan_dir(const struct scan *scan)
{
    return scan->dir;
}

int scan_summary(struct scan *s, struct scan_summary *out)
{
    const struct scan_entry *entries;
    size_t count;
    memset(out, 0, sizeof *out);
    int err = scan_wait(s, &entries, &count);
    if (err != 0)
        return err;
    out->count = count;
    out->clean = true;
    for (size_t i = 0; i < count; i++) {
        out->key ^= entries[i].key;
        out->clean = out->clean && entries[i].problem == NULL && entries[i].conventional;
    }
    out->hashed = s->hashed;
    return 0;
}
