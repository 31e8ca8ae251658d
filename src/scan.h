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

struct scan_entry {
    char *name;                      /* folder name */
    char checksum[HASH_HEX_LEN + 1]; /* of migration.sql, "" when problem is set */
    size_t size;                     /* of migration.sql, when it could be stat'ed */
    const char *problem;             /* static text, or NULL */
    const char *same_as;             /* problem: migration.sql is this other entry's (its name) */
    bool too_large;                  /* problem: migration.sql is over the size limit */
    bool conventional;               /* migration_name_is_conventional() */
};

struct scan;

/* Starts scanning dir; NULL only when out of memory or no thread could start
 * (then scan_run() does the same work synchronously). */
struct scan *scan_start(const char *dir);

/* Waits for the scan. Returns 0 and the entries (sorted byte-wise by name),
 * or an errno value when dir itself could not be listed. The entries stay
 * owned by the scan. Two folders whose migration.sql is one file (a symbolic
 * link between migration folders, or to one shared file; a hard link) would
 * apply the same SQL under two names: one of them gets a problem and
 * same_as, the other's name (the one that is a link, else the later). */
int scan_wait(struct scan *scan, const struct scan_entry **entries, size_t *count);

/* The directory being scanned, as given to scan_start. */
const char *scan_dir(const struct scan *scan);

/* Waits if needed and frees everything. NULL is fine. */
void scan_free(struct scan *scan);

#endif
