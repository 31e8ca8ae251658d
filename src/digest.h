/* digest.h — the history digest: one row (stallmig.history_digest) that
 * sums up stallmig.migrations, so that a deploy with nothing to do compares
 * one row with the folder instead of reading every history row.
 *
 * It holds, over each migration's latest row: how many are applied, the
 * XOR of their keys (migration_key: name and checksum), how many failed,
 * and whether it is valid. Every statement that changes stallmig.migrations
 * (the gate's own, or SQL typed by hand) marks it not valid, through a
 * statement trigger; only digest_refresh, which computes it again from the
 * whole history in one statement, makes it valid. So a valid digest always
 * describes the history as it is, and a change that is not the gate's costs
 * nothing but the next run's speed.
 *
 * The gate refreshes it when a change that wrote history ends, and when a
 * change found it not valid; it trusts it only while the trigger is there
 * and enabled. Plain libpq (no Lua). */
#ifndef STALLMIG_DIGEST_H
#define STALLMIG_DIGEST_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct digest {
    bool valid;                      /* present, trigger enabled, and computed since the last change */
    long long applied, failed;       /* latest rows applied / failed */
    uint64_t key;                    /* XOR of the applied ones' migration_key */
};

/* The SQL that reads the digest (one row: valid, applied, failed, key as
 * text), or fails when the digest table is not there. */
extern const char digest_read_sql[];

/* Reads the first row of digest_read_sql's result (or digest_read_latest's)
 * into *out; false when res is not that (a failure, no table, no row: *out
 * not valid). */
bool digest_from_result(const PGresult *res, struct digest *out);

/* Runs digest_read_sql on pg (outside a transaction: a missing table
 * would abort one) into *out; false when there is no digest to read. */
bool digest_read(PGconn *pg, struct digest *out);

/* digest_read in two halves, so that the host works while the server
 * answers: digest_send sends digest_read_sql (false: not sent, inside a
 * transaction or on a broken connection); digest_receive collects all of
 * its result into *out (false: there is no digest to read). A send is
 * followed by a receive before anything else is sent on pg. */
bool digest_send(PGconn *pg);
bool digest_receive(PGconn *pg, struct digest *out);

/* digest_read, and in the same statement (one snapshot, one round trip)
 * the `latest` (>= 1) history rows applied last, newest first: the result,
 * which the caller clears, its columns 4, 5 and 6 name, duration_ms and
 * finished_at (UTC, ISO 8601) of each row, or NULL in all three on its
 * only row when there is none; NULL (and *out not valid) when there is no
 * digest to read, as digest_read. */
PGresult *digest_read_latest(PGconn *pg, int latest, struct digest *out);

struct scan_summary;

/* Whether the folder is exactly what the digest says is applied: the
 * digest valid with nothing failed, the folder clean (no problem, every
 * name conventional) and not empty, as many migrations, the same XOR of
 * their keys. Then every migration is applied as it is in the folder,
 * none edited, missing or pending (barring a 64-bit XOR collision). */
bool digest_matches(const struct digest *d, const struct scan_summary *folder);

/* Creates the digest's table, functions and trigger (once per database:
 * what is already there is left alone) and computes it, in a READ WRITE
 * transaction of its own. Returns 0, or -1 with why (the role may not
 * create them, an old server): then the gate reads every row, as before. */
int digest_install(PGconn *pg, char *why, size_t size);

/* Computes the digest again from the whole history and marks it valid, in
 * a REPEATABLE READ transaction of its own: a concurrent change to the
 * history makes it fail rather than record a stale digest. 0, or -1 (left
 * as it was). */
int digest_refresh(PGconn *pg);

#endif
