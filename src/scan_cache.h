/* scan_cache.h — the checksums of migration files, remembered between runs
 * (the project's .stallmig/checksums) under what stat says about each file,
 * as git's index does: a file whose size, modification and change times,
 * inode and device are all as they were is not read and hashed again.
 *
 * A file changed within the same clock tick as it was recorded would look
 * unchanged (git's "racily clean" entries), so a file whose change time is
 * less than SCAN_CACHE_SETTLE seconds before the scan started is not
 * recorded: it is hashed again on the next run. Any later write moves its
 * change time on, which no program can set back. The cache only ever saves
 * work: a missing, unreadable or foreign file is an empty cache. Plain C. */
#ifndef STALLMIG_SCAN_CACHE_H
#define STALLMIG_SCAN_CACHE_H

#include "hash.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#define SCAN_CACHE_SETTLE 2

/* What stat says about a file, as compared. */
struct file_stamp {
    long long size, mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;
    unsigned long long ino, dev;
};

void file_stamp_of(const struct stat *st, struct file_stamp *out);
bool file_stamp_equal(const struct file_stamp *a, const struct file_stamp *b);

struct scan_cache_entry {
    char *name;                      /* the migration folder's name */
    char checksum[HASH_HEX_LEN + 1];
    uint64_t key;                    /* migration_key(name, checksum) */
    struct file_stamp stamp;
};

struct scan_cache {
    struct scan_cache_entry *entries; /* sorted byte-wise by name */
    size_t count;
};

/* Reads the cache at path into *cache (empty when there is none, or it is
 * not one this version wrote). Never fails: out of memory is an empty cache. */
void scan_cache_load(const char *path, struct scan_cache *cache);

/* The entry for name whose stamp is stamp, or NULL. */
const struct scan_cache_entry *scan_cache_find(const struct scan_cache *cache, const char *name,
                                               const struct file_stamp *stamp);

/* Whether a file of this stamp may be recorded by a scan that started at
 * started (its change time is at least SCAN_CACHE_SETTLE seconds older). */
bool scan_cache_settled(const struct file_stamp *stamp, const struct timespec *started);

/* Writes cache (entries sorted by name) to path: a new file beside it,
 * then renamed over it, mode 0600, its directory made (0700) when missing.
 * 0, or -1 (nothing changed; the next run hashes again). */
int scan_cache_save(const char *path, const struct scan_cache *cache);

void scan_cache_free(struct scan_cache *cache);

#endif
