/* scan.h — read and hash every migration folder, on a background thread.
 *
 * Deploy and status both need every migration's checksum and the database's
 * history; the scan is file I/O and the history is network I/O, so they
 * overlap: scan_start() before connecting, scan_wait() when the plan is made.
 * Plain C (no lua.h). */
#ifndef STALLMIG_SCAN_H
#define STALLMIG_SCAN_H

#include "hash.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct scan_entry {
    char *name;                      /* folder name */
    char checksum[HASH_HEX_LEN + 1]; /* of migration.sql, "" when problem is set */
    size_t size;                     /* of migration.sql, when it could be stat'ed */
    const char *problem;             /* static text, or NULL */
    const char *same_as;             /* problem: migration.sql is this other entry's (its name) */
    bool too_large;                  /* problem: migration.sql is over the size limit */
    bool conventional;               /* migration_name_is_conventional() */
    uint64_t key;                    /* migration_key(name, checksum), when problem is NULL */
};

struct scan;

/* Starts scanning dir; NULL only when out of memory. (When no thread can
 * start, the same work is done at once.) cache_path: the checksum cache
 * (scan_cache.h) to read and, when this scan hashed anything, rewrite; NULL
 * for none. */
struct scan *scan_start(const char *dir, const char *cache_path);

/* Waits for the scan's entries (the cache may still be being written, on
 * the scan's thread: scan_free waits for that). Returns 0 and the entries
 * (sorted byte-wise by name),
 * or an errno value when dir itself could not be listed. The entries stay
 * owned by the scan. Two folders whose migration.sql is one file (a symbolic
 * link between migration folders, or to one shared file; a hard link) would
 * apply the same SQL under two names: one of them gets a problem and
 * same_as, the other's name (the one that is a link, else the later). */
int scan_wait(struct scan *scan, const struct scan_entry **entries, size_t *count);

/* The folder as a whole, for comparing with the history digest
 * (stallmig.history_digest): how many migrations, the XOR of their keys,
 * whether every one is clean (no problem, a conventional name), and how
 * many files were read and hashed rather than found in the cache. */
struct scan_summary {
    size_t count;
    uint64_t key;
    bool clean;
    size_t hashed;
};

/* Waits, then sums up. 0, or scan_wait's errno value (*out zeroed). */
int scan_summary(struct scan *scan, struct scan_summary *out);

/* The directory being scanned, as given to scan_start. */
const char *scan_dir(const struct scan *scan);

/* Waits for the scan's thread to end (the cache written) and frees
 * everything. NULL is fine. */
void scan_free(struct scan *scan);

#endif
