/* ledger.h — the host's own records in a target database: the stallmig
 * schema's tables, the marker (stallmig.identity) and the audit trail
 * (stallmig.audit). Each write runs in a READ WRITE transaction of its own,
 * so the host keeps its books on a read-only connection too. Raise on
 * failure, except ledger_audit_finish. */
#ifndef STALLMIG_LEDGER_H
#define STALLMIG_LEDGER_H

#include "lconn.h"

/* "user@host" of this process. */
const char *ledger_actor(void);

/* Creates the host's tables (every table of the stallmig schema) if they
 * are not all there. */
void ledger_ensure_schema(lua_State *L, struct lconn *c);

/* One parameterised write in its own transaction; the first value it
 * returned as a number (RETURNING id), else 0. */
long long ledger_write(lua_State *L, struct lconn *c, const char *sql, int n, const char **params);

/* The commit checked out in the project's directory, or "". */
void ledger_git_commit(char *out, size_t size);

/* Inserts an audit row (who, which workflow, action, detail, git commit);
 * returns its id. */
long long ledger_audit(lua_State *L, struct lconn *c, const char *action, const char *detail);
/* The same with the overrides the change relied on ("--no-backup (reason:
 * ...)"), kept in their own column. */
long long ledger_audit_with(lua_State *L, struct lconn *c, const char *action, const char *detail,
                            const char *overrides);

/* Completes c's audit row (c->audit_id, if any): when it ended, how long it
 * took, and how (outcome). Never raises. */
void ledger_audit_finish(struct lconn *c, const char *outcome);
/* The same for the audit row audit_id (a change's own), its detail
 * replaced when detail is not NULL. Never raises. */
void ledger_audit_complete(struct lconn *c, long long audit_id, const char *outcome,
                           const char *detail);

/* Writes the marker: this database belongs to c's environment (restamp:
 * replacing any marker there). */
void ledger_stamp(lua_State *L, struct lconn *c, bool restamp);

/* Appends one line ("<UTC time> <actor> <env>: <text>") to the project's
 * local, append-only log, .stallmig/audit.log next to stallmig.ini (mode
 * 0600): what must outlive the database it happened to (a re-stamp, a
 * restore). Never raises; a log that cannot be written is warned about. */
void ledger_local_log(const char *env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
