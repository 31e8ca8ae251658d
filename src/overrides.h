/* overrides.h — the named overrides a run may give the host's gates, each
 * with --reason, each recorded where it was used. They are read from the
 * command line by the host (cli.c), never from a table a workflow can change.
 * Plain C (no lua.h). */
#ifndef STALLMIG_OVERRIDES_H
#define STALLMIG_OVERRIDES_H

#include <stdbool.h>
#include <stddef.h>

enum override {
    OVERRIDE_SKIP_PROMOTION_CHECK,   /* promote_from not checked */
    OVERRIDE_NO_BACKUP,              /* backup = true, but no backup taken */
    OVERRIDE_ACCEPT_DATA_LOSS,       /* the review's data-loss refusals lifted */
    OVERRIDE_RESTAMP_FROM,           /* a protected marker re-stamped without a terminal */
    OVERRIDE_ALLOW_ADHOC_SQL,        /* conn:allow_writes on a protected connection */
    OVERRIDE_COUNT
};

struct overrides {
    bool given[OVERRIDE_COUNT];
    bool used[OVERRIDE_COUNT];       /* set by the gate that relied on it */
    const char *restamp_from;        /* --restamp-from ENV */
    const char *reason;              /* --reason TEXT, or NULL */
};

/* "--skip-promotion-check", ... */
const char *override_option(enum override o);
/* "skip-promotion-check", ... (the key in ctx.overrides) */
const char *override_key(enum override o);

/* 0, or -1 with err: an override given without a non-blank --reason. */
int overrides_check(const struct overrides *ov, char *err, size_t errlen);

/* "--no-backup, --accept-data-loss (reason: TEXT)" of the overrides used
 * (or, with used_only false, given); "" when there are none. */
void overrides_describe(const struct overrides *ov, bool used_only, char *out, size_t size);

#endif
