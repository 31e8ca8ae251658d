/* run.h — what the host knows about this run, set once by main.c before the
 * workflow starts: the configuration, the workflow's name, --yes, the named
 * overrides and the workflow's own options as given. The gates read it from
 * here, never from the context table a workflow can change. No lua.h. */
#ifndef STALLMIG_RUN_H
#define STALLMIG_RUN_H

#include "overrides.h"

#include <stdbool.h>

struct config;

struct run {
    const struct config *cfg;
    const char *root;                /* the directory holding lua/ and workflows/ */
    char workflow[128];              /* its name: application_name, the audit */
    bool yes;                        /* --yes: confirmation given */
    struct overrides overrides;
    int argc;                        /* the workflow's own options, as given */
    char **argv;
    bool dev_only;                   /* the workflow declared itself dev-only */
    bool serving;                    /* http.serve runs: protected connections stay read-only */
};

/* The value of the workflow option --NAME VALUE / --NAME=VALUE as given on
 * the command line, or NULL. */
const char *run_option(const struct run *run, const char *name);

#endif
