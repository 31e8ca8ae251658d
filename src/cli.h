/* cli.h — stallrun's command line: an option table that also prints usage. */
#ifndef STALLMIG_CLI_H
#define STALLMIG_CLI_H

#include "overrides.h"

#include <stdbool.h>

struct cli {
    const char *workflow;
    const char *env;
    const char *fleet, *member;      /* --fleet NAME [--member NAME] */
    const char *config;              /* default "stallmig.ini" */
    bool yes, json, help, version;
    struct overrides overrides;      /* --no-backup, ... with --reason */
    int argc;                        /* options handed to the workflow */
    char **argv;
};

/* Parses argv. Returns 0, or -1 with a message in err (usage error). The
 * workflow's own options (anything the host does not know) stay in order.
 * An override without --reason is a usage error. */
int cli_parse(int argc, char **argv, struct cli *out, char *err, unsigned errlen);
void cli_free(struct cli *cli);

/* Prints usage and the workflows found in each directory (NULL-ended). */
void cli_print_help(const char *const *workflow_dirs);

#endif
