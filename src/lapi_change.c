/* lapi_change.c — conn:begin_change(): the one gate every change to a
 * migrated database goes through, whoever wrote the script (see gate.h).
 *
 *   local change <close> = conn:begin_change{what = "deploy", scan = scan}
 *   change:review()    -- protected: what each pending migration would lose here
 *   change:check()     -- edited/missing/part-way refused; promote_from; the review
 *   change:confirm(w)  -- protected: the environment's name typed, or --yes
 *   change:backup()    -- backup = true: a verified backup, before the first write
 *   change:apply(name) -- one migration, in order, recorded by the host
 *
 * Each step a script leaves out is refused by the next, naming the call to
 * make. The policy comes from the host's configuration and the run's own
 * command line (overrides with --reason), never from a table a script holds;
 * the mechanics run in the gate's own Lua state. The phases of a phased
 * migration (complete, abort) are lapi_phase.c's; the object both give
 * methods to is gate_change.h's. */
#include "digest.h"
#include "gate.h"
#include "gate_change.h"
#include "scan.h"

#include "config.h"
#include "lapi.h"
#include "lapi_guard.h"
#include "lapi_identity.h"
#include "lconfig.h"
#include "ledger.h"
#include "lerror.h"
#include "msg.h"
#include "overrides.h"
#include "run.h"

#include <lauxlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct run *run(void)
{
    return lconn_run();
}

struct change *change_arg(lua_State *L, int idx)
{
    struct change *ch = luaL_checkudata(L, idx, CHANGE_MT);
    if (ch->ended || ch->c == NULL || ch->c->pg == NULL)
        lerror_raise(L, "usage", "this change is over (closed, or its connection was): begin a new one");
    return ch;
}

/* ---- overrides ------------------------------------------------------------ */

bool change_overridden(enum override o)
{
    return run() && run()->overrides.given[o];
}

/* Relies on override o: marks it used and says so on stderr. */
void change_use_override(enum override o, const char *what)
{
    struct overrides *ov = &run()->overrides;
    if (!ov->used[o])
        msg_warn("%s: %s (%s)", what, ov->reason, override_option(o));
    ov->used[o] = true;
}

/* ---- the audit row ------------------------------------------------------------ */

/* Notes one thing the change did, for its audit row ("resolved X as ..."). */
void change_journal(struct change *ch, const char *fmt, ...)
{
    size_t len = strlen(ch->journal);
    if (len + 4 >= sizeof ch->journal)
        return;
    if (len > 0)
        len += (size_t)snprintf(ch->journal + len, sizeof ch->journal - len, "; ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ch->journal + len, sizeof ch->journal - len, fmt, ap);
    va_end(ap);
}

/* What the audit row says: the change, what it did (or, before it did
 * anything, what is pending), the overrides used. */
static void audit_detail(const struct change *ch, char *detail, size_t size, char *used, size_t used_size)
{
    char did[1200];
    if (ch->applied > 0)
        snprintf(did, sizeof did, "applied %lld of %lld pending migration(s)%s%s", ch->applied,
                 ch->pending, ch->journal[0] ? "; " : "", ch->journal);
    else if (ch->journal[0])
        snprintf(did, sizeof did, "%s", ch->journal);
    else if (ch->pending > 0)
        snprintf(did, sizeof did, "%lld pending migration(s)", ch->pending);
    else
        did[0] = '\0';
    overrides_describe(&run()->overrides, true, used, used_size);
    snprintf(detail, size, "%s%s%s%s%s", ch->what, did[0] ? ": " : "", did,
             used[0] ? "; overrides: " : "", used);
}

/* ---- ending ---------------------------------------------------------------- */

/* A commit with synchronous_commit on that writes its own commit record:
 * it waits for the WAL flush, which covers every earlier commit. */
static void flush_commits(PGconn *pg)
{
    PQclear(PQexec(pg, "BEGIN; SELECT txid_current(); COMMIT"));
}

/* Before the lock is released: the history digest made true again when
 * this change wrote (or found it stale), or installed where it is missing,
 * so that the next run with nothing to do reads one row (digest.h). A
 * failure costs that run its speed, nothing else. */
static void keep_digest(struct change *ch)
{
    if (ch->digest == DIGEST_UNREAD || ch->c->in_recovery ||
        (ch->digest == DIGEST_VALID && !ch->writes_begun))
        return;
    if (ch->digest == DIGEST_ABSENT) {
        char why[300];
        if (digest_install(ch->c->pg, why, sizeof why) == 0)
            ch->c->digest_table = true;
    } else {
        digest_refresh(ch->c->pg);
    }
}

void gate_change_end(struct change *ch, const char *outcome)
{
    if (ch == NULL || ch->ended)
        return;
    ch->ended = true;
    struct lconn *c = ch->c;
    if (c && c->pg && PQstatus(c->pg) == CONNECTION_OK) {
        if (PQtransactionStatus(c->pg) != PQTRANS_IDLE)
            PQclear(PQexec(c->pg, "ROLLBACK"));
        if (ch->async_commits)
            flush_commits(c->pg);
        keep_digest(ch);
        if (ch->made_writable)
            PQclear(PQexec(c->pg, "SET default_transaction_read_only = on"));
        if (ch->lock_held)
            gate_lock_release(c, c->env->prisma_compat);
        char detail[2100], used[800];
        audit_detail(ch, detail, sizeof detail, used, sizeof used);
        ledger_audit_complete(c, ch->audit_id, outcome, detail);
    }
    gate_state_close(ch->P);
    ch->P = NULL;
    if (c)
        c->change = NULL;
    ch->c = NULL;
}

/* change:close(): the change ended well. */
static int change_close(lua_State *L)
{
    gate_change_end(luaL_checkudata(L, 1, CHANGE_MT), "ok");
    return 0;
}

/* __close(change, err): leaving its <close> scope, maybe because of an error. */
static int change_close_scope(lua_State *L)
{
    struct change *ch = luaL_checkudata(L, 1, CHANGE_MT);
    if (lua_isnoneornil(L, 2)) {
        gate_change_end(ch, "ok");
        return 0;
    }
    const char *why = NULL;
    if (lua_istable(L, 2)) {
        lua_pushliteral(L, "message");
        lua_rawget(L, 2);
        why = lua_tostring(L, -1);
    } else {
        why = lua_tostring(L, 2);
    }
    char outcome[600];
    snprintf(outcome, sizeof outcome, "failed: %s", why ? why : "error");
    gate_change_end(ch, outcome);
    return 0;
}

static int change_gc(lua_State *L)
{
    gate_change_end(luaL_checkudata(L, 1, CHANGE_MT), "ended (the change was not closed)");
    return 0;
}

/* ---- the first write ------------------------------------------------------- */

/* An unprotected environment whose database is a protected one's (same
 * cluster and database under another name): refused before anything else
 * is said about it. Asked once per change. */
void change_refuse_twin(lua_State *L, struct change *ch)
{
    struct lconn *c = ch->c;
    if (ch->twin_checked)
        return;
    const char *hint = NULL, *twin = c->is_protected ? NULL : identity_protected_twin(c, &hint);
    ch->twin_checked = true;
    if (twin == NULL)
        return;
    lerror_push(L, "refused", "%s; nothing was changed", twin);
    lerror_set(L, "hint", hint);
    lerror_throw(L);
}

/* Before the change writes anything: writes allowed on the session, the
 * host's tables, the marker (a first write stamps it), the audit row and
 * the lock's announcement. Once per change. */
static void begin_writes(lua_State *L, struct change *ch)
{
    if (ch->writes_begun)
        return;
    struct lconn *c = ch->c;
    change_refuse_twin(L, ch);
    if (c->read_only && !identity_through_pooler(c)) {
        PQclear(PQexec(c->pg, "SET default_transaction_read_only = off"));
        ch->made_writable = true;
    }
    ledger_ensure_schema(L, c);
    if (!c->id.marker_found)
        ledger_stamp(L, c, false);
    char detail[2100], used[800];
    audit_detail(ch, detail, sizeof detail, used, sizeof used);
    ch->audit_id = ledger_audit_with(L, c, ch->what, detail, used);
    if (c->is_protected)
        msg_warn("writing to protected environment %s: %s", c->env->name, detail);
    gate_lock_announce(L, c);
    gate_state_push(ch->P, "begin_writes");
    gate_state_call(L, ch->P, 0, 0);
    ch->writes_begun = true;
}

/* ---- the steps -------------------------------------------------------------- */

static void require_confirmed(lua_State *L, struct change *ch, const char *call)
{
    if (!ch->c->is_protected || ch->confirmed)
        return;
    lerror_push(L, "refused", "%s is protected: %s needs confirmation first, and the script did not "
                "ask for it; nothing was changed", ch->c->env->name, call);
    lerror_set(L, "hint", "call change:confirm(what) before it (the environment's name is typed, "
               "or --yes given in CI)");
    lerror_throw(L);
}

static void require_backup(lua_State *L, struct change *ch, const char *call)
{
    if (!ch->c->env->backup || ch->backup_done)
        return;
    lerror_push(L, "refused", "%s has backup = true: %s needs a verified backup taken in this "
                "change first, and the script took none; nothing was changed", ch->c->env->name, call);
    lerror_set(L, "hint", "call change:backup() before it (or run with --no-backup --reason TEXT, "
               "which is recorded)");
    lerror_throw(L);
}

/* A list of sentences returned by the gate's Lua half (on P's top) as one
 * indented text on L; pops it. 0 when the list is empty. */
size_t change_push_list(lua_State *L, lua_State *P)
{
    size_t n = lua_rawlen(P, -1);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(P, -1, (lua_Integer)i);
        const char *line = lua_tostring(P, -1);
        luaL_addstring(&b, "\n  ");
        luaL_addstring(&b, line ? line : "?");
        lua_pop(P, 1);
    }
    lua_pop(P, 1);
    luaL_pushresult(&b);
    return n;
}

/* Protected: the script must have asked for the review. */
static void require_reviewed(lua_State *L, struct change *ch)
{
    struct lconn *c = ch->c;
    if (!c->is_protected || ch->reviewed)
        return;
    {
        lerror_push(L, "refused", "%s is protected: its pending migrations must be reviewed before "
                    "they are applied, and the script did not ask for the review; nothing was changed",
                    c->env->name);
        lerror_set(L, "hint", "call change:review() first: it measures what each pending migration "
                   "would lose in this database");
        lerror_throw(L);
    }
}

/* The end of a data-loss review whose n sentences are the list on L's top:
 * refused ("ENV is protected, and the review found data that WHAT would
 * lose there"), unless there are none or the run gave --accept-data-loss
 * (then recorded as used). Pops the list. */
void change_refuse_loss(lua_State *L, struct change *ch, size_t n, const char *what, const char *hint)
{
    if (n > 0 && change_overridden(OVERRIDE_ACCEPT_DATA_LOSS)) {
        change_use_override(OVERRIDE_ACCEPT_DATA_LOSS, "data loss accepted");
        n = 0;
    }
    if (n == 0) {
        lua_pop(L, 1);
        return;
    }
    const char *list = lua_tostring(L, -1);
    lerror_push(L, "refused", "%s is protected, and the review found data that %s would lose "
                "there; nothing was changed:%s", ch->c->env->name, what, list);
    lerror_set(L, "hint", hint);
    lerror_throw(L);
}

/* The review's refusals (protected environments only). */
static void check_review(lua_State *L, struct change *ch)
{
    if (!ch->c->is_protected)
        return;
    gate_state_push(ch->P, "blocked");
    gate_state_call(L, ch->P, 0, 1);
    size_t n = change_push_list(L, ch->P);
    char what[64];
    snprintf(what, sizeof what, "%zu pending migration(s)", n);
    change_refuse_loss(L, ch, n, what, "change the migration so that it keeps the data; or, where "
                       "losing it is intended, say so in the file (-- stallmig:allow RULE: reason, on "
                       "the line before the statement) or run with --accept-data-loss --reason TEXT "
                       "(recorded)");
}

/* promote_from: every pending migration applied there with the same checksum. */
static void check_promotion(lua_State *L, struct change *ch)
{
    const struct env_config *env = ch->c->env;
    if (env->promote_from == NULL || ch->pending == 0)
        return;
    if (change_overridden(OVERRIDE_SKIP_PROMOTION_CHECK)) {
        char what[200];
        snprintf(what, sizeof what, "promotion check against %s skipped", env->promote_from);
        change_use_override(OVERRIDE_SKIP_PROMOTION_CHECK, what);
        return;
    }
    gate_state_push(ch->P, "promotion");
    lua_pushstring(ch->P, env->promote_from);
    gate_state_call(L, ch->P, 1, 1);     /* raises "refused" when it cannot be read */
    size_t n = change_push_list(L, ch->P);
    if (n == 0) {
        lua_pop(L, 1);
        return;
    }
    const char *list = lua_tostring(L, -1);
    lerror_push(L, "refused", "%s only takes migrations %s has applied; %zu are not:%s", env->name,
                env->promote_from, n, list);
    char hint[300];
    snprintf(hint, sizeof hint, "deploy them to %s first: stallrun workflows/deploy.lua --env %s",
             env->promote_from, env->promote_from);
    lerror_set(L, "hint", hint);
    lerror_throw(L);
}

/* The checks before the first migration is applied, once per change:
 * the history (edited, missing, part-way), every pending file parsed, the
 * review, promote_from. */
static void ensure_checked(lua_State *L, struct change *ch)
{
    if (ch->checked)
        return;
    change_refuse_twin(L, ch);
    gate_state_push(ch->P, "check_history");
    gate_state_call(L, ch->P, 0, 0);
    if (ch->pending == 0) {          /* nothing to review, promote or parse */
        ch->checked = true;
        return;
    }
    gate_state_push(ch->P, "load_pending");
    gate_state_call(L, ch->P, 0, 0);
    require_reviewed(L, ch);
    check_promotion(L, ch);
    check_review(L, ch);
    ch->checked = true;
}

/* change:check(): refuses now what change:apply() would refuse. */
static int change_check(lua_State *L)
{
    ensure_checked(L, change_arg(L, 1));
    return 0;
}

/* change:review() -> the review document (verify's shape) */
static int change_review(lua_State *L)
{
    struct change *ch = change_arg(L, 1);
    gate_state_push(ch->P, "review");
    gate_state_call(L, ch->P, 0, 1);
    gate_copy(ch->P, -1, L);
    lua_pop(ch->P, 1);
    ch->reviewed = true;
    ch->checked = false;             /* a new review: its verdict is checked again */
    return 1;
}

/* change:confirm(what) -> true */
static int change_confirm(lua_State *L)
{
    struct change *ch = change_arg(L, 1);
    const char *what = luaL_checkstring(L, 2);
    if (ch->c->is_protected && !ch->confirmed)
        guard_confirm_conn(L, ch->c, what);
    ch->confirmed = true;
    lua_pushboolean(L, 1);
    return 1;
}

/* change:backup([always]) -> {path, file, checksum, size, last_migration} | nil:
 * the backup backup = true asks for (always: one even where it does not). */
static int change_backup(lua_State *L)
{
    struct change *ch = change_arg(L, 1);
    bool always = lua_toboolean(L, 2);
    require_confirmed(L, ch, "the backup");
    if ((!ch->c->env->backup && !always) || ch->backup_done)
        return 0;
    if (!always && change_overridden(OVERRIDE_NO_BACKUP)) {   /* asked for: taken anyway */
        change_use_override(OVERRIDE_NO_BACKUP, "no backup taken");
        ch->backup_done = true;
        return 0;
    }
    gate_state_push(ch->P, "backup_take");   /* raises: nothing was written */
    gate_state_call(L, ch->P, 0, 0);
    begin_writes(L, ch);
    gate_state_push(ch->P, "backup_record");
    gate_state_call(L, ch->P, 0, 1);
    gate_copy(ch->P, -1, L);
    lua_pop(ch->P, 1);
    lua_getfield(L, -1, "file");
    change_journal(ch, "backed up to %s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
    lua_pop(L, 1);
    ch->backup_done = true;
    return 1;
}

/* The steps every schema change waits for: checked, confirmed, backed up. */
void change_before_schema_change(lua_State *L, struct change *ch, const char *call)
{
    require_confirmed(L, ch, call);
    require_backup(L, ch, call);
    begin_writes(L, ch);
}

/* change:apply(name) -> {name, mode, duration_ms, warnings}; raises the failure */
static int change_apply(lua_State *L)
{
    struct change *ch = change_arg(L, 1);
    const char *name = luaL_checkstring(L, 2);
    ensure_checked(L, ch);
    change_before_schema_change(L, ch, "applying a migration");
    gate_state_push(ch->P, "apply");
    lua_pushstring(ch->P, name);
    ch->async_commits = true;        /* until the gate says this commit was flushed */
    gate_state_call(L, ch->P, 1, 1);
    lua_getfield(ch->P, -1, "durable");
    ch->async_commits = !lua_toboolean(ch->P, -1);
    lua_pop(ch->P, 1);
    ch->applied++;
    gate_copy(ch->P, -1, L);
    lua_pop(ch->P, 1);
    return 1;
}

/* The review of name's down.sql on a protected connection: refused when it
 * would lose data there, unless --accept-data-loss. */
static void check_undo(lua_State *L, struct change *ch, const char *name)
{
    gate_state_push(ch->P, "undo_review");
    lua_pushstring(ch->P, name);
    lua_pushboolean(ch->P, ch->c->is_protected);
    gate_state_call(L, ch->P, 2, 1);
    size_t n = change_push_list(L, ch->P);
    char what[300];
    snprintf(what, sizeof what, "the down.sql of %s", name);
    change_refuse_loss(L, ch, n, what, "restore the backup instead, or run with --accept-data-loss "
                       "--reason TEXT (recorded)");
}

/* change:check_undo(name): refuses now what change:undo(name) would refuse
 * (no down.sql, not applied, data it would lose on a protected connection). */
static int change_check_undo(lua_State *L)
{
    struct change *ch = change_arg(L, 1);
    check_undo(L, ch, luaL_checkstring(L, 2));
    return 0;
}

/* change:undo(name): the newest applied migration's down.sql, recorded. */
static int change_undo(lua_State *L)
{
    struct change *ch = change_arg(L, 1);
    const char *name = luaL_checkstring(L, 2);
    check_undo(L, ch, name);
    change_before_schema_change(L, ch, "rolling back a migration");
    gate_state_push(ch->P, "undo");
    lua_pushstring(ch->P, name);
    gate_state_call(L, ch->P, 1, 0);
    change_journal(ch, "rolled back %s", name);
    return 0;
}

/* change:resolve(name, "applied" | "rolled_back" [, reason]) */
static int change_resolve(lua_State *L)
{
    struct change *ch = change_arg(L, 1);
    const char *name = luaL_checkstring(L, 2);
    static const char *const outcomes[] = {"applied", "rolled_back", NULL};
    int outcome = luaL_checkoption(L, 3, NULL, outcomes);
    const char *reason = luaL_optstring(L, 4, run()->overrides.reason);
    if (reason == NULL || strspn(reason, " \t\n") == strlen(reason))
        return lerror_raise(L, "usage", "resolving %s needs a reason: --reason TEXT (it is recorded)",
                            name);
    require_confirmed(L, ch, "resolving a migration");
    begin_writes(L, ch);
    gate_state_push(ch->P, "resolve");
    lua_pushstring(ch->P, name);
    lua_pushstring(ch->P, outcomes[outcome]);
    lua_pushstring(ch->P, reason);
    gate_state_call(L, ch->P, 3, 0);
    change_journal(ch, "resolved %s as %s: %s", name, outcomes[outcome], reason);
    return 0;
}

/* change:adopt{from = "prisma"} | {baseline = NAME} -> how many were recorded */
static int change_adopt(lua_State *L)
{
    struct change *ch = change_arg(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_pushliteral(L, "from");
    const char *from = lua_rawget(L, 2) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    lua_pushliteral(L, "baseline");
    const char *baseline = lua_rawget(L, 2) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    if ((from == NULL) == (baseline == NULL) || (from && strcmp(from, "prisma") != 0))
        return lerror_raise(L, "usage", "change:adopt takes {from = \"prisma\"} or {baseline = NAME}");
    gate_state_push(ch->P, "adopt_plan");
    lua_pushstring(ch->P, from);
    lua_pushstring(ch->P, baseline);
    gate_state_call(L, ch->P, 2, 0);  /* refuses (nothing written) when it does not match */
    require_confirmed(L, ch, "adopting a history");
    begin_writes(L, ch);
    gate_state_push(ch->P, "adopt");
    gate_state_call(L, ch->P, 0, 1);
    lua_Integer n = lua_tointeger(ch->P, -1);
    lua_pop(ch->P, 1);
    change_journal(ch, "adopted %lld migration(s) (%s)", (long long)n, from ? "from _prisma_migrations" : "baseline");
    lua_pushinteger(L, n);
    return 1;
}

/* change:rehearse() -> {info, results, skipped}: the pending migrations in
 * one transaction, measured, then rolled back. */
static int change_rehearse(lua_State *L)
{
    struct change *ch = change_arg(L, 1);
    const struct env_config *env = ch->c->env;
    if (!env->rehearse) {
        lerror_push(L, "refused", "--rehearse is not allowed on %s: it is protected, and a rehearsal "
                    "runs the migrations there (then rolls them back)", env->name);
        char hint[400];
        snprintf(hint, sizeof hint, "to allow it, add 'rehearse = true' to [env.%s] in stallmig.ini "
                 "(every rehearsal there then asks for confirmation and is recorded in "
                 "stallmig.audit); or verify without --rehearse (read-only)", env->name);
        lerror_set(L, "hint", hint);
        return lerror_throw(L);
    }
    gate_state_push(ch->P, "load_pending");
    gate_state_call(L, ch->P, 0, 0);
    require_confirmed(L, ch, "the rehearsal");
    gate_state_push(ch->P, "rehearsable");
    gate_state_call(L, ch->P, 0, 1);
    bool any = lua_toboolean(ch->P, -1);
    lua_pop(ch->P, 1);
    if (any && ch->c->is_protected)
        begin_writes(L, ch);         /* recorded where protected; elsewhere it leaves no trace */
    gate_state_push(ch->P, "rehearse");
    gate_state_call(L, ch->P, 0, 1);
    change_journal(ch, "rehearsed the pending migrations in one transaction, rolled back");
    gate_copy(ch->P, -1, L);
    lua_pop(ch->P, 1);
    return 1;
}

/* How many views the gate makes for one copy: its garbage between copies. */
#define VIEW_CHUNK 256

/* Sets field `which` ("pending" or "entries") of the plan on L's top to a
 * copy of the gate's n views of that list, made a chunk at a time
 * (gate.views): at 10,000 migrations a view of each in the gate's state
 * beside the workflow's copy was megabytes at the run's peak. */
static void copy_views(lua_State *L, struct change *ch, const char *which, lua_Integer n)
{
    lua_createtable(L, n > 0 ? (int)n : 0, 0);
    for (lua_Integer first = 1; first <= n; first += VIEW_CHUNK) {
        gate_state_push(ch->P, "views");
        lua_pushstring(ch->P, which);
        lua_pushinteger(ch->P, first);
        lua_pushinteger(ch->P, VIEW_CHUNK);
        gate_state_call(L, ch->P, 3, 1);
        lua_Integer got = (lua_Integer)lua_rawlen(ch->P, -1);
        for (lua_Integer i = 1; i <= got; i++) {
            lua_rawgeti(ch->P, -1, i);
            gate_copy(ch->P, -1, L);
            lua_pop(ch->P, 1);
            lua_rawseti(L, -2, first + i - 1);
        }
        lua_pop(ch->P, 1);
    }
    lua_setfield(L, -2, which);
}

/* change:plan([{entries = true}]) -> {pending, counts, total, warnings[, entries]}:
 * the host's plan */
static int change_plan(lua_State *L)
{
    struct change *ch = change_arg(L, 1);
    bool entries = false;
    if (lua_istable(L, 2)) {
        lua_pushliteral(L, "entries");
        entries = lua_rawget(L, 2) != LUA_TNIL && lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    gate_state_push(ch->P, "plan");
    lua_pushboolean(ch->P, entries);
    gate_state_call(L, ch->P, 1, 3);  /* {counts, total, warnings}, #pending, #entries | nil */
    lua_Integer pending = lua_tointeger(ch->P, -2);
    bool with_entries = lua_isinteger(ch->P, -1);
    lua_Integer total = lua_tointeger(ch->P, -1);
    lua_pop(ch->P, 2);
    gate_copy(ch->P, -1, L);
    lua_pop(ch->P, 1);
    if (with_entries)
        copy_views(L, ch, "entries", total);
    copy_views(L, ch, "pending", pending);
    return 1;
}

/* change:policy() -> what this change must go through here */
static int change_policy(lua_State *L)
{
    struct change *ch = change_arg(L, 1);
    const struct env_config *env = ch->c->env;
    lua_createtable(L, 0, 8);
    lua_pushstring(L, env->name);
    lua_setfield(L, -2, "environment");
    lua_pushboolean(L, ch->c->is_protected);
    lua_setfield(L, -2, "protected");
    lua_pushboolean(L, ch->c->is_protected);
    lua_setfield(L, -2, "review");
    lua_pushboolean(L, ch->c->is_protected);
    lua_setfield(L, -2, "confirm");
    lua_pushboolean(L, env->backup && !change_overridden(OVERRIDE_NO_BACKUP));
    lua_setfield(L, -2, "backup");
    if (env->promote_from) {
        lua_pushstring(L, env->promote_from);
        lua_setfield(L, -2, "promote_from");
    }
    lua_pushinteger(L, ch->pending);
    lua_setfield(L, -2, "pending");
    return 1;
}

/* ---- opening --------------------------------------------------------------- */

/* The options of begin_change: a string (what) or {what = ..., scan = ...}. */
static const char *change_what(lua_State *L, int *scan_idx)
{
    *scan_idx = 0;
    if (lua_type(L, 2) == LUA_TSTRING)
        return lua_tostring(L, 2);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_pushliteral(L, "scan");
    if (lua_rawget(L, 2) == LUA_TUSERDATA)
        *scan_idx = lua_gettop(L);
    else
        lua_pop(L, 1);
    lua_pushliteral(L, "what");
    if (lua_rawget(L, 2) != LUA_TSTRING)
        lerror_raise(L, "usage", "conn:begin_change needs what the change is: "
                     "conn:begin_change(\"deploy\") or {what = \"deploy\", scan = scan}");
    return lua_tostring(L, -1);
}

/* How many migrations the folder holds when it is exactly what the history
 * digest says is applied (digest_matches), else 0. Then the plan is known
 * without reading a history row. The digest was asked for when the change
 * began (sent: conn_begin_change); a folder that cannot match (a problem,
 * an odd name, empty) leaves it unread, as if it had not been asked. */
static size_t digest_current_count(struct change *ch, struct scan *scan, bool sent)
{
    struct digest d;
    bool read = sent && digest_receive(ch->c->pg, &d);
    struct scan_summary folder;
    if (scan == NULL || scan_summary(scan, &folder) != 0 || !folder.clean || folder.count == 0)
        return 0;
    ch->digest = !read ? DIGEST_ABSENT : d.valid ? DIGEST_VALID : DIGEST_STALE;
    return read && digest_matches(&d, &folder) ? folder.count : 0;
}

/* The gate's Lua half reads the history and the folder, after the lock
 * (unless the digest says the folder is up to date: then only when needed). */
static void open_plan(lua_State *L, struct change *ch, int scan_idx, bool digest_sent)
{
    lua_State *P = ch->P;
    const struct config *cfg = lconn_config();
    gate_state_push(P, "open");
    lconn_push_borrowed(P, ch->c);
    lconfig_push(P, cfg);
    lconfig_push_env(P, ch->c->env);
    lua_pushboolean(P, ch->c->is_protected);   /* a marker may protect what the INI does not */
    lua_setfield(P, -2, "protected");
    struct scan *scan = scan_idx ? lapi_files_pass_scan(L, scan_idx, P, cfg->migrations_dir) : NULL;
    if (scan == NULL)
        lua_pushnil(P);
    size_t current = digest_current_count(ch, scan, digest_sent);
    if (current > 0)
        lua_pushinteger(P, (lua_Integer)current);
    else
        lua_pushnil(P);
    gate_state_call(L, P, 5, 1);
    ch->pending = lua_tointeger(P, -1);
    lua_pop(P, 1);
}

/* gate_state_open, protected: conn_begin_change has a query to collect
 * whatever happens. */
static int open_gate_state(lua_State *L)
{
    struct change *ch = lua_touserdata(L, 1);
    ch->P = gate_state_open(L);
    return 0;
}

/* conn:begin_change(what | {what, scan}) -> change */
static int conn_begin_change(lua_State *L)
{
    struct lconn *c = lconn_check(L, 1);
    int scan_idx;
    const char *what = change_what(L, &scan_idx);
    if (c->host_writer || c->change)
        return lerror_raise(L, "usage", "a change is already open on this connection to %s",
                            c->env->name);
    char action[200];
    snprintf(action, sizeof action, "%s on %s", what, c->env->name);
    guard_require_writable(L, c, action);
    struct change *ch = lua_newuserdatauv(L, sizeof *ch, 1);
    memset(ch, 0, sizeof *ch);
    luaL_setmetatable(L, CHANGE_MT);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    int self = lua_gettop(L);
    ch->c = c;
    c->change = ch;
    snprintf(ch->what, sizeof ch->what, "%s", what);
    gate_lock_acquire(L, c, c->env->lock_wait, c->env->prisma_compat);
    ch->lock_held = true;
    /* the digest is read under the lock; the server answers while the
     * gate's Lua state is made (half a millisecond of a no-op) */
    bool sent = scan_idx != 0 && c->digest_table && digest_send(c->pg);
    lua_pushcfunction(L, open_gate_state);
    lua_pushlightuserdata(L, ch);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        struct digest unused;
        if (sent)
            digest_receive(c->pg, &unused);   /* the connection stays usable */
        return lua_error(L);
    }
    open_plan(L, ch, scan_idx, sent);
    lua_pushvalue(L, self);
    return 1;
}

const luaL_Reg change_conn_methods[] = {
    {"begin_change", conn_begin_change},
    {NULL, NULL},
};

static const luaL_Reg change_methods[] = {
    {"plan", change_plan},         {"policy", change_policy},   {"review", change_review},
    {"check", change_check},       {"confirm", change_confirm}, {"backup", change_backup},
    {"apply", change_apply},       {"undo", change_undo},       {"check_undo", change_check_undo},
    {"resolve", change_resolve},
    {"adopt", change_adopt},       {"rehearse", change_rehearse},
    {"close", change_close},       {NULL, NULL},
};

static const luaL_Reg change_meta[] = {
    {"__gc", change_gc},
    {"__close", change_close_scope},
    {NULL, NULL},
};

void change_register_class(lua_State *L, const luaL_Reg *more)
{
    if (!luaL_newmetatable(L, CHANGE_MT)) {
        lua_pop(L, 1);
        return;
    }
    luaL_setfuncs(L, change_meta, 0);
    lua_newtable(L);
    luaL_setfuncs(L, change_methods, 0);
    luaL_setfuncs(L, more, 0);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}
