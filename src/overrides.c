/* overrides.c — see overrides.h. */
#include "overrides.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *const options[OVERRIDE_COUNT] = {
    [OVERRIDE_SKIP_PROMOTION_CHECK] = "--skip-promotion-check",
    [OVERRIDE_NO_BACKUP] = "--no-backup",
    [OVERRIDE_ACCEPT_DATA_LOSS] = "--accept-data-loss",
    [OVERRIDE_RESTAMP_FROM] = "--restamp-from",
    [OVERRIDE_ALLOW_ADHOC_SQL] = "--allow-adhoc-sql",
};

const char *override_option(enum override o)
{
    return o < OVERRIDE_COUNT ? options[o] : "?";
}

const char *override_key(enum override o)
{
    return override_option(o) + 2;
}

static bool blank(const char *text)
{
    for (; text && *text; text++)
        if (!isspace((unsigned char)*text))
            return false;
    return true;
}

int overrides_check(const struct overrides *ov, char *err, size_t errlen)
{
    if (!blank(ov->reason))
        return 0;
    for (int o = 0; o < OVERRIDE_COUNT; o++)
        if (ov->given[o]) {
            snprintf(err, errlen, "%s needs --reason TEXT (it is recorded with the change)",
                     override_option((enum override)o));
            return -1;
        }
    return 0;
}

void overrides_describe(const struct overrides *ov, bool used_only, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (int o = 0; o < OVERRIDE_COUNT && len < size; o++) {
        if (!ov->given[o] || (used_only && !ov->used[o]))
            continue;
        len += (size_t)snprintf(out + len, size - len, "%s%s", len ? ", " : "",
                                override_option((enum override)o));
        if (o == OVERRIDE_RESTAMP_FROM && ov->restamp_from && len < size)
            len += (size_t)snprintf(out + len, size - len, " %s", ov->restamp_from);
    }
    if (len > 0 && len < size)
        snprintf(out + len, size - len, " (reason: %s)", ov->reason ? ov->reason : "");
}
