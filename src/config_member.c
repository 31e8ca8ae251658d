/* config_member.c — a fleet member as an environment of its own: the
 * fleet's settings, its name FLEET.MEMBER and the url the registry gave
 * (config.h, "fleet members"). The [fleet.NAME] section itself is read by
 * config.c. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *copy_text(const char *s)
{
    char *copy = strdup(s);
    if (copy == NULL)
        abort();
    return copy;
}

char *config_fleet_registry(const struct config *cfg, const struct fleet_config *f,
                            struct config_error *err)
{
    struct env_config as_env = {.name = f->env.name, .url = f->registry};
    char *url = config_env_url(cfg, &as_env, err);
    if (url == NULL)   /* the messages name [env.FLEET]: say which section it is */
        snprintf(err->hint, sizeof err->hint, "fix registry in [fleet.%s] of stallmig.ini, or "
                 "set the environment variable it names", f->name);
    return url;
}

static char *copy_or_null(const char *s) { return s ? copy_text(s) : NULL; }

/* A member's environment: the fleet's settings, its own name and url. */
static struct env_config *add_member_env(struct config *cfg, const struct fleet_config *f,
                                         const char *member, const char *url)
{
    struct env_config *e = &cfg->envs[cfg->env_count++];
    *e = f->env;
    if (asprintf(&e->name, "%s.%s", f->name, member) < 0)
        abort();
    e->url.raw = copy_text(url);
    e->url.line = f->line;
    e->lock_timeout = copy_or_null(f->env.lock_timeout);
    e->statement_timeout = copy_or_null(f->env.statement_timeout);
    e->promote_from = copy_or_null(f->env.promote_from);
    e->integration_tests = copy_or_null(f->env.integration_tests);
    return e;
}

const struct env_config *config_add_member(struct config *cfg, const char *fleet,
                                           const char *member, const char *url,
                                           const char *promote_url, struct config_error *err)
{
    memset(err, 0, sizeof *err);
    const struct fleet_config *f = config_find_fleet(cfg, fleet);
    const struct fleet_config *from = f && f->env.promote_from
                                    ? config_find_fleet(cfg, f->env.promote_from) : NULL;
    if (f == NULL)
        snprintf(err->message, sizeof err->message, "%s: there is no [fleet.%s]", cfg->path, fleet);
    else if (!config_valid_name(member) || strlen(member) > 63)
        snprintf(err->message, sizeof err->message, "fleet %s: member name '%.80s' is not 1 to 63 "
                 "letters, digits, '_' or '-'", fleet, member);
    else if (url == NULL || url[0] == '\0')
        snprintf(err->message, sizeof err->message, "fleet %s: member %s has no url", fleet,
                 member);
    else if (strstr(url, "${") || (promote_url && strstr(promote_url, "${")))
        /* a registry's value is not the INI: it names no variable to expand */
        snprintf(err->message, sizeof err->message, "fleet %s: member %s's url holds '${': "
                 "a member's url is used as the registry gives it", fleet, member);
    else if (from && (promote_url == NULL || promote_url[0] == '\0'))
        snprintf(err->message, sizeof err->message, "fleet %s promotes from fleet %s, which has "
                 "no member %s", fleet, from->name, member);
    else if (cfg->env_count + 2 > CONFIG_MAX_ENVS)
        snprintf(err->message, sizeof err->message, "too many environments (at most %d)",
                 CONFIG_MAX_ENVS);
    if (err->message[0] != '\0')
        return NULL;
    if (from) {
        add_member_env(cfg, from, member, promote_url);
        struct env_config *e = add_member_env(cfg, f, member, url);
        free(e->promote_from);
        e->promote_from = copy_text(cfg->envs[cfg->env_count - 2].name);
        return e;
    }
    return add_member_env(cfg, f, member, url);
}
