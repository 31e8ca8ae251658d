/* host.h — the Lua state that runs one workflow. */
#ifndef STALLMIG_HOST_H
#define STALLMIG_HOST_H

#include <lua.h>
#include <stdbool.h>

struct config;
struct overrides;

struct host_run {
    const char *workflow;            /* path of the workflow script */
    const char *root;                /* directory holding lua/ and workflows/ */
    const struct config *cfg;
    const char *env;                 /* --env, or NULL */
    bool yes, json;
    const struct overrides *overrides;  /* shown as ctx.overrides and ctx.reason */
    int argc;                        /* workflow options, as given */
    char **argv;
};

/* Runs the workflow and returns the process exit status (see lerror.h). */
int host_run_workflow(const struct host_run *run);

/* Exit status for an error kind ("usage" -> 2, "refused" -> 3, ...). */
int host_exit_status(const char *kind);

/* A Lua state as a workflow gets one: the standard libraries, the host's
 * modules in package.preload, root/lua on package.path, strict globals,
 * redacted print. NULL when out of memory. The change gate runs its own
 * half in one of these, out of every workflow's reach. */
lua_State *host_new_state(const char *root);

/* The state SIGINT/SIGTERM interrupt (the workflow's, or the gate's while
 * the host runs code there); returns the one before. */
lua_State *host_set_running(lua_State *L);

/* Whether SIGINT/SIGTERM has arrived during this run. */
bool host_interrupted(void);

/* Raises the "interrupted" error in L now (for C code that noticed the
 * signal itself); where is appended to the message, e.g. " while waiting
 * for the deploy lock: nothing was changed". */
int host_raise_interrupt(lua_State *L, const char *where);

/* ctx.config as a workflow sees it, and one environment's table of it
 * ({name, protected, backup, ...}, never the URL). */
struct env_config;
void host_push_config(lua_State *L, const struct config *cfg);
void host_push_env(lua_State *L, const struct env_config *env);

/* The message handler the workflow runs under (adds a traceback). */
int host_message_handler(lua_State *L);

#endif
