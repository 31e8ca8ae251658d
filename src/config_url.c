/* config_url.c — what the INI's values name outside it, read when they are
 * used: ${VAR} interpolation (the PG* variables config.c hid at load are
 * still readable through it) and an environment's url made whole and
 * checked. config.c reads and validates the file. */
#include "config.h"

#include "endpoint.h"
#include "localpg.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void append(char **out, size_t *len, const char *s, size_t n)
{
    char *grown = realloc(*out, *len + n + 1);
    if (grown == NULL)
        abort();
    memcpy(grown + *len, s, n);
    *len += n;
    grown[*len] = '\0';
    *out = grown;
}

static bool valid_var_name(const char *s, size_t n)
{
    if (n == 0 || isdigit((unsigned char)s[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return false;
    return true;
}

/* Expands the ${...} starting at *p (which points at '$'). */
static int expand_one(const char **p, char **out, size_t *len, char *errbuf, size_t errlen)
{
    const char *start = *p + 2, *close = strchr(start, '}');
    if (close == NULL) {
        snprintf(errbuf, errlen, "unterminated '${' (add the closing '}')");
        return -1;
    }
    const char *dflt = strstr(start, ":-");
    size_t name_len = (size_t)((dflt && dflt < close ? dflt : close) - start);
    if (!valid_var_name(start, name_len)) {
        snprintf(errbuf, errlen, "'${%.*s}' is not a variable name (letters, digits, _)",
                 (int)(close - start), start);
        return -1;
    }
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)name_len, start);
    const char *value = config_getenv(name);
    if (value == NULL || value[0] == '\0') {
        if (dflt && dflt < close) {
            append(out, len, dflt + 2, (size_t)(close - dflt - 2));
            *p = close + 1;
            return 0;
        }
        snprintf(errbuf, errlen, "${%s} is not set (export it, or give a default: ${%s:-...})",
                 name, name);
        return -1;
    }
    append(out, len, value, strlen(value));
    *p = close + 1;
    return 0;
}

char *config_interpolate(const char *value, char *errbuf, size_t errlen)
{
    char *out = NULL;
    size_t len = 0;
    append(&out, &len, "", 0);
    for (const char *p = value; *p;) {
        if (p[0] == '$' && p[1] == '{') {
            if (expand_one(&p, &out, &len, errbuf, errlen) != 0) {
                free(out);
                return NULL;
            }
            continue;
        }
        append(&out, &len, p, 1);
        p++;
    }
    return out;
}

char *config_env_url(const struct config *cfg, const struct env_config *env,
                     struct config_error *err)
{
    char why[512];
    err->hint[0] = '\0';
    char *url = config_interpolate(env->url.raw, why, sizeof why);
    if (url == NULL) {
        err->line = env->url.line;
        snprintf(err->message, sizeof err->message, "%s:%d: %s", cfg->path, env->url.line, why);
        snprintf(err->hint, sizeof err->hint, "fix the url of [env.%s] in stallmig.ini, or set "
                 "the environment variable it names where stallrun runs (the shell, or the CI "
                 "job's variables)", env->name);
        return NULL;
    }
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {   /* e.g. a pasted secret's newline */
            err->line = env->url.line;
            snprintf(err->message, sizeof err->message, "%s:%d: [env.%s] url contains a newline "
                     "or another control character%s", cfg->path, env->url.line, env->name,
                     strstr(env->url.raw, "${") ? " (from the variable it names)" : "");
            snprintf(err->hint, sizeof err->hint, "fix the url of [env.%s] in stallmig.ini, or the "
                     "environment variable it names: its value holds a character you cannot see, "
                     "most often a line break at its end (left there when a secret is pasted or "
                     "read from a file); set it again without it", env->name);
            free(url);
            return NULL;
        }
    if (url[0] == '\0') {
        err->line = env->url.line;
        snprintf(err->message, sizeof err->message, "%s:%d: [env.%s] url is empty", cfg->path,
                 env->url.line, env->name);
        snprintf(err->hint, sizeof err->hint, "fix the url of [env.%s] in stallmig.ini, or set "
                 "the environment variable it names to the database's url", env->name);
        free(url);
        return NULL;
    }
    const char *hint = NULL;
    if (!localpg_is_local(url) && endpoint_check(url, why, sizeof why, &hint) != 0) {
        err->line = env->url.line;   /* every reader of a url: connect, pg_dump, aliases, ... */
        snprintf(err->message, sizeof err->message, "%s:%d: the url of [env.%s] %s", cfg->path,
                 env->url.line, env->name, why);
        snprintf(err->hint, sizeof err->hint, "%s", hint);
        free(url);
        return NULL;
    }
    return url;
}
