/* lsignal.c — SIGINT/SIGTERM as a Lua error (see lsignal.h). As lua.c
 * does, a hook raises at the next Lua instruction. */
#include "lsignal.h"

#include "lerror.h"
#include "sigwatch.h"

#include <lauxlib.h>
#include <signal.h>
#include <stddef.h>

static lua_State *volatile running_state;

static const char *signal_name(void)
{
    return sigwatch_signal() == SIGTERM ? "SIGTERM" : "SIGINT";
}

/* Raised at the next Lua instruction after the first signal, once the
 * cancel requests were answered: the cleanup that unwinding runs (a
 * ROLLBACK, a history row) must not be what a late cancel hits. */
static void interrupt_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    sigwatch_wait_cancelled();
    lerror_push(L, "interrupted", "interrupted by %s", signal_name());
    lerror_set(L, "hint", "the running statement was cancelled and what was not committed rolled "
               "back; what had committed stays (stallrun workflows/status.lua shows it)");
    lerror_throw(L);
}

/* In the signal handler: lua_sethook is async-signal-safe. */
static void interrupt_lua(void)
{
    lua_State *L = running_state;
    if (L)
        lua_sethook(L, interrupt_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

int lsignal_watch(lua_State *L)
{
    running_state = L;
    if (sigwatch_start(interrupt_lua) == 0)
        return 0;
    running_state = NULL;
    return -1;
}

void lsignal_stop(void)
{
    running_state = NULL;
    sigwatch_stop();
}

lua_State *lsignal_set_running(lua_State *L)
{
    lua_State *before = running_state;
    running_state = L;
    return before;
}

bool lsignal_interrupted(void)
{
    return sigwatch_signal() != 0;
}

int lsignal_raise(lua_State *L, const char *where)
{
    lua_sethook(L, NULL, 0, 0);      /* raised here, not again at the next instruction */
    if (running_state && running_state != L)
        lua_sethook(running_state, NULL, 0, 0);
    sigwatch_wait_cancelled();
    lerror_push(L, "interrupted", "interrupted by %s%s", signal_name(), where ? where : "");
    lerror_set(L, "hint", "the running statement was cancelled and what was not committed rolled "
               "back; what had committed stays (stallrun workflows/status.lua shows it)");
    return lerror_throw(L);
}
