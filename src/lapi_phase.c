/* lapi_phase.c — the change gate's methods for phased migrations
 * (docs/zero-downtime.md): change:expanded(), change:check_complete(name),
 * change:complete(name) runs a contract, change:abort(name) the down
 * section of an expand. Like every method of the change (gate_change.h,
 * lapi_change.c), each refuses what the runbook does not allow before it
 * writes: the history, the rollout the run's own command line confirms,
 * promote_from, and on a protected environment the data-loss review. */
#include "gate.h"
#include "gate_change.h"

#include "config.h"
#include "lapi.h"
#include "lerror.h"
#include "run.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

/* The history's refusals (edited, missing, part-way failed), before a
 * phase of an expanded migration runs. */
static void check_history(lua_State *L, struct change *ch)
{
    change_refuse_twin(L, ch);
    gate_state_push(ch->P, "check_history");
    gate_state_call(L, ch->P, 0, 0);
}

/* --rollout-confirmed, as given on the run's own command line (a workflow
 * cannot say it for the user): the new application version runs everywhere,
 * so nothing still reads what a contract removes. */
static void require_rollout(lua_State *L, const char *name)
{
    const struct run *r = lconn_run();
    for (int i = 0; r && i < r->argc; i++)
        if (strcmp(r->argv[i], "--rollout-confirmed") == 0)
            return;
    lerror_push(L, "refused", "completing %s removes what the previous application version still "
                "uses, and the run does not say that the new version is rolled out; nothing was changed",
                name);
    lerror_set(L, "hint", "once every instance runs the new version, run again with --rollout-confirmed "
               "(stallrun workflows/complete.lua --env ENV --rollout-confirmed)");
    lerror_throw(L);
}

/* promote_from: the source environment completed `name` with the same checksum. */
static void check_promotion_complete(lua_State *L, struct change *ch, const char *name)
{
    const struct env_config *env = ch->c->env;
    if (env->promote_from == NULL)
        return;
    if (change_overridden(OVERRIDE_SKIP_PROMOTION_CHECK)) {
        char what[200];
        snprintf(what, sizeof what, "promotion check against %s skipped", env->promote_from);
        change_use_override(OVERRIDE_SKIP_PROMOTION_CHECK, what);
        return;
    }
    gate_state_push(ch->P, "promotion_complete");
    lua_pushstring(ch->P, env->promote_from);
    lua_pushstring(ch->P, name);
    gate_state_call(L, ch->P, 2, 1);     /* raises "refused" when it cannot be read */
    if (change_push_list(L, ch->P) == 0) {
        lua_pop(L, 1);
        return;
    }
    const char *list = lua_tostring(L, -1);
    lerror_push(L, "refused", "%s completes only what %s has completed; nothing was changed:%s",
                env->name, env->promote_from, list);
    char hint[300];
    snprintf(hint, sizeof hint, "complete it in %s first: stallrun workflows/complete.lua --env %s "
             "--rollout-confirmed", env->promote_from, env->promote_from);
    lerror_set(L, "hint", hint);
    lerror_throw(L);
}

/* Runs the gate's `fn` (contract, abort) on name and returns its result. */
static int run_phase(lua_State *L, struct change *ch, const char *fn, const char *name)
{
    gate_state_push(ch->P, fn);
    lua_pushstring(ch->P, name);
    gate_state_call(L, ch->P, 1, 1);
    gate_copy(ch->P, -1, L);
    lua_pop(ch->P, 1);
    return 1;
}

/* The review of a phase of name (section "contract" or "down") on a
 * protected connection, as for any migration: refused when the data there
 * shows a loss the file does not say is intended (-- stallmig:allow RULE:
 * reason), unless --accept-data-loss. Dropping the old column is what a
 * contract is for; saying so is the file's job, not the gate's to assume. */
static void check_phase(lua_State *L, struct change *ch, const char *name, const char *section)
{
    if (!ch->c->is_protected)
        return;
    gate_state_push(ch->P, "phase_review");
    lua_pushstring(ch->P, name);
    lua_pushstring(ch->P, section);
    gate_state_call(L, ch->P, 2, 1);
    size_t n = change_push_list(L, ch->P);
    char what[300];
    snprintf(what, sizeof what, "the %s section of %s", section, name);
    change_refuse_loss(L, ch, n, what, "where the loss is intended (the backfill kept what the contract "
                       "drops), say so in the file (-- stallmig:allow RULE: reason, on the line before "
                       "the statement); or run with --accept-data-loss --reason TEXT (recorded)");
}

/* What change:complete(name) refuses before it writes: the history, no
 * confirmed rollout, promote_from's environment not completed, data the
 * contract would lose on a protected environment. */
static void check_complete(lua_State *L, struct change *ch, const char *name)
{
    check_history(L, ch);
    require_rollout(L, name);
    check_promotion_complete(L, ch, name);
    check_phase(L, ch, name, "contract");
}

/* change:check_complete(name): refuses now what change:complete(name)
 * would refuse, before anyone is asked. */
static int change_check_complete(lua_State *L)
{
    struct change *ch = change_arg(L, 1);
    check_complete(L, ch, luaL_checkstring(L, 2));
    return 0;
}

/* change:complete(name) -> {name, mode, duration_ms, told}: the contract of
 * the first expanded migration, recorded as applied. */
static int change_complete(lua_State *L)
{
    struct change *ch = change_arg(L, 1);
    const char *name = luaL_checkstring(L, 2);
    check_complete(L, ch, name);
    change_before_schema_change(L, ch, "completing a migration");
    run_phase(L, ch, "contract", name);
    change_journal(ch, "completed %s", name);
    return 1;
}

/* change:abort(name) -> {name, mode, duration_ms, told}: the down section of
 * an expanded migration, recorded as rolled back. */
static int change_abort(lua_State *L)
{
    struct change *ch = change_arg(L, 1);
    const char *name = luaL_checkstring(L, 2);
    check_history(L, ch);
    check_phase(L, ch, name, "down");
    change_before_schema_change(L, ch, "aborting a migration");
    run_phase(L, ch, "abort", name);
    change_journal(ch, "aborted %s", name);
    return 1;
}

/* change:expanded() -> {{name, checksum}}: what complete and abort can take. */
static int change_expanded(lua_State *L)
{
    struct change *ch = change_arg(L, 1);
    gate_state_push(ch->P, "expanded");
    gate_state_call(L, ch->P, 0, 1);
    gate_copy(ch->P, -1, L);
    lua_pop(ch->P, 1);
    return 1;
}

const luaL_Reg change_phase_methods[] = {
    {"expanded", change_expanded},       {"check_complete", change_check_complete},
    {"complete", change_complete},       {"abort", change_abort},
    {NULL, NULL},
};
