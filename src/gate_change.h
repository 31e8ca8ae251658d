/* gate_change.h — the change object of the gate (gate.h), shared by the
 * files that give it methods: lapi_change.c (opening, the review, apply,
 * undo, resolve, adopt, rehearse, ending) and lapi_phase.c (the phases of a
 * phased migration: complete and abort). Nothing else includes it. */
#ifndef STALLMIG_GATE_CHANGE_H
#define STALLMIG_GATE_CHANGE_H

#include "lconn.h"
#include "overrides.h"

#include <lauxlib.h>
#include <stdbool.h>
#include <stddef.h>

#define CHANGE_MT "stallmig.change"

struct change {
    struct lconn *c;                 /* the connection (the userdata's uservalue keeps it alive) */
    lua_State *P;                    /* the gate's own Lua state; NULL once ended */
    char what[128];                  /* what the change is, for the audit ("deploy") */
    long long pending;               /* migrations the host's plan has pending */
    long long audit_id;              /* this change's audit row, once it writes */
    bool ended, lock_held, writes_begun, made_writable;
    bool reviewed, checked, confirmed, backup_done, twin_checked;
    bool async_commits;              /* commits not yet flushed (synchronous_commit off) */
    enum { DIGEST_UNREAD, DIGEST_ABSENT, DIGEST_STALE, DIGEST_VALID } digest;
    long long applied;               /* migrations applied in this change */
    char journal[1024];              /* what else it did, for the audit row */
};


/* The change at idx; raises "usage" when it is over. */
struct change *change_arg(lua_State *L, int idx);

/* Whether the run's command line gave override o; change_use_override
 * marks it used (recorded in the audit row) and says so on stderr. */
bool change_overridden(enum override o);
void change_use_override(enum override o, const char *what);

/* Notes one thing the change did, for its audit row ("completed X"). */
void change_journal(struct change *ch, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A list of sentences returned by the gate's Lua half (on P's top) as one
 * indented text on L; pops it from P. Returns how many (0: nothing pushed
 * but the empty text). */
size_t change_push_list(lua_State *L, lua_State *P);

/* The end of a data-loss review whose n sentences are the list on L's top:
 * refused ("ENV is protected, and the review found data that WHAT would
 * lose there", with hint), unless there are none or the run gave
 * --accept-data-loss (then recorded as used). Pops the list. */
void change_refuse_loss(lua_State *L, struct change *ch, size_t n, const char *what, const char *hint);

/* An unprotected environment whose database is a protected one's: refused
 * before anything else is said about it (asked once per change). */
void change_refuse_twin(lua_State *L, struct change *ch);

/* The steps every schema change waits for: confirmed and backed up where
 * they apply, then the writes begun. */
void change_before_schema_change(lua_State *L, struct change *ch, const char *call);

#endif
