/* host.h — runs one workflow (the top of the host, under main.c). */
#ifndef STALLMIG_HOST_H
#define STALLMIG_HOST_H

#include <stdbool.h>

struct config;
struct overrides;

struct host_run {
    const char *workflow;            /* path of the workflow script */
    const char *root;                /* directory holding lua/ and workflows/ */
    const struct config *cfg;
    const char *env;                 /* --env (a member's "FLEET.MEMBER"), or NULL */
    const char *fleet, *member;      /* --fleet, --member, or NULL */
    bool yes, json;
    const struct overrides *overrides;  /* shown as ctx.overrides and ctx.reason */
    int argc;                        /* workflow options, as given */
    char **argv;
};

/* Runs the workflow in a Lua state with the host's modules (modules.c) and
 * returns the process exit status (see lerror.h). */
int host_run_workflow(const struct host_run *run);

/* Exit status for an error kind ("usage" -> 2, "refused" -> 3, ...). */
int host_exit_status(const char *kind);

#endif
