/* config.c — load stallmig.ini with inih; validate every key and section.
 *
 * Debian's libinih is built without line numbers in the handler, so the
 * file is read into memory and fed through a reader that counts lines; the
 * reader also sees section headers, which catches duplicate sections.
 * What the values name outside the file (${VAR}, an environment's url) is
 * config_url.c; a fleet's member as an environment, config_member.c. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* An INI file larger than this is not a stallmig.ini (a wrong --config). */
#define CONFIG_MAX_SIZE (1L << 20)
/* A migration queued behind a long transaction fails fast instead of
 * blocking every query on the table behind it. */
#define DEFAULT_PROTECTED_LOCK_TIMEOUT "5s"

struct loader {
    const char *path;
    struct config *cfg;
    struct config_error *err;
    const char *text;                /* whole file, NUL-terminated */
    size_t pos;                      /* reader position */
    int line;                        /* line the last chunk came from */
    int next_line;
    bool failed;
    int project_header;              /* line of [project], 0 if none yet */
    int project_lines[CONFIG_PROJECT_KEY_COUNT];          /* line each key was set on */
    int env_lines[CONFIG_MAX_ENVS][CONFIG_ENV_KEY_COUNT];
    int fleet_lines[CONFIG_MAX_FLEETS][CONFIG_ENV_KEY_COUNT];
    int fleet_own_lines[CONFIG_MAX_FLEETS][6];             /* the fleet_keys below */
};

static void fail(struct loader *ld, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct loader *ld, int line, const char *fmt, ...)
{
    if (ld->failed)
        return;
    ld->failed = true;
    ld->err->line = line;
    char text[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (line > 0)
        snprintf(ld->err->message, sizeof ld->err->message, "%s:%d: %s", ld->path, line, text);
    else
        snprintf(ld->err->message, sizeof ld->err->message, "%s: %s", ld->path, text);
}

static char *xstrdup(const char *s)
{
    char *copy = strdup(s);
    if (copy == NULL)
        abort();
    return copy;
}

/* ---- values ----------------------------------------------------------- */

int config_parse_bool(const char *text, bool *out)
{
    static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(text, yes[i]) == 0)
            return *out = true, 0;
        if (strcasecmp(text, no[i]) == 0)
            return *out = false, 0;
    }
    return -1;
}

int config_parse_duration(const char *text, long long *ms)
{
    static const struct { const char *unit; double factor; } units[] = {
        {"ms", 1}, {"s", 1000}, {"min", 60000}, {"h", 3600000}, {"d", 86400000}, {"", 1},
    };
    /* digits, an optional fraction: no sign, exponent, hex or "inf" (the
     * server reads integers with strtol(.., 0), so 010 would be 8 there) */
    const char *p = text;
    size_t whole = strspn(p, "0123456789");
    p += whole;
    size_t fraction = 0;
    if (*p == '.')
        fraction = strspn(++p, "0123456789"), p += fraction;
    if (whole + fraction == 0 || whole > 18 || fraction > 18)
        return -1;
    while (*p == ' ' || *p == '\t')
        p++;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(p, units[i].unit) != 0)
            continue;
        double value = strtod(text, NULL) * units[i].factor;
        if (value > (double)CONFIG_MAX_DURATION_MS)
            return -2;
        *ms = llround(value);
        return *ms == 0 && value != 0 ? -2 : 0;
    }
    return -1;
}

/* The text PostgreSQL is given for a duration config_parse_duration read:
 * "0", the number and its unit without a space ("5 s" would split the
 * startup options), or whole milliseconds when it had a fraction or
 * leading zeros. */
static char *duration_text(const char *text, long long ms)
{
    char out[64];
    size_t digits = strspn(text, "0123456789");
    const char *unit = text + digits;
    while (*unit == ' ' || *unit == '\t')
        unit++;
    if (ms == 0)
        snprintf(out, sizeof out, "0");
    else if (text[0] != '0' && text[digits] != '.')
        snprintf(out, sizeof out, "%.*s%s", (int)digits, text, unit);
    else
        snprintf(out, sizeof out, "%lldms", ms);
    return xstrdup(out);
}

/* A whole number from min to max, digits only. 0, or -1. */
static int parse_count(const char *text, long long min, long long max, long long *out)
{
    if (text[0] == '\0' || strspn(text, "0123456789") != strlen(text) || strlen(text) > 18)
        return -1;
    long long value = strtoll(text, NULL, 10);
    if (value < min || value > max)
        return -1;
    *out = value;
    return 0;
}

/* ---- the process environment ------------------------------------------ */

/* What libpq would fill in from the environment when a url leaves it out,
 * choosing the server, the database or the role; pg_dump and pg_restore
 * would too (they inherit the environment). Taken out of the process's
 * environment at load; ${VAR} in the INI still reads them. */
static const char *const chooser_names[] = {"PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE",
                                            "PGUSER", "PGSERVICE", NULL};
static char *chooser_values[sizeof chooser_names / sizeof chooser_names[0]];

void config_hide_pg_environment(void)
{
    for (size_t i = 0; chooser_names[i]; i++) {
        const char *value = getenv(chooser_names[i]);
        if (value == NULL)
            continue;
        free(chooser_values[i]);
        chooser_values[i] = xstrdup(value);
        unsetenv(chooser_names[i]);
    }
}

const char *config_getenv(const char *name)
{
    const char *value = getenv(name);
    for (size_t i = 0; value == NULL && chooser_names[i]; i++)
        if (strcmp(name, chooser_names[i]) == 0)
            value = chooser_values[i];
    return value;
}

/* ---- defaults, by kind (config.h) ------------------------------------- */

static void set_default_URL(struct config_value *v, int none) { (void)v, (void)none; }
static void set_default_BOOL(bool *b, bool value) { *b = value; }
static void set_default_TIMEOUT(char **text, void *none) { *text = none; }
static void set_default_WAIT(double *seconds, double value) { *seconds = value; }
static void set_default_ENV(char **name, void *none) { *name = none; }
static void set_default_COUNT(long long *n, long long value) { *n = value; }
static void set_default_COMMAND(char **command, void *none) { *command = none; }


/* ---- sections ---------------------------------------------------------- */

const struct env_config *config_find_env(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->env_count; i++)
        if (strcmp(cfg->envs[i].name, name) == 0)
            return &cfg->envs[i];
    return NULL;
}

bool config_valid_name(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
            return false;
    return true;
}

const struct fleet_config *config_find_fleet(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->fleet_count; i++)
        if (strcmp(cfg->fleets[i].name, name) == 0)
            return &cfg->fleets[i];
    return NULL;
}

static void env_defaults(struct env_config *e)
{
#define X(key, field, kind, dflt, min, max, words) set_default_##kind(&e->field, dflt);
    CONFIG_ENV_KEYS(X)
#undef X
}

static void fleet_header(struct loader *ld, const char *name, int line)
{
    const char *fleet = name + 6;
    if (!config_valid_name(fleet)) {
        fail(ld, line, "[%s]: a fleet name is letters, digits, '_' or '-'", name);
        return;
    }
    const struct fleet_config *seen = config_find_fleet(ld->cfg, fleet);
    if (seen != NULL) {
        fail(ld, line, "[%s] appears twice (first at line %d); merge them", name, seen->line);
        return;
    }
    if (ld->cfg->fleet_count == CONFIG_MAX_FLEETS) {
        fail(ld, line, "too many fleets (at most %d)", CONFIG_MAX_FLEETS);
        return;
    }
    struct fleet_config *f = &ld->cfg->fleets[ld->cfg->fleet_count++];
    f->name = xstrdup(fleet);
    f->line = line;
    f->env.name = xstrdup(fleet);
    f->env.line = line;
    env_defaults(&f->env);
    f->parallel = 4;
}

/* Called by the reader for each "[...]" line, so that empty sections exist
 * and a section given twice is an error. */
static void section_header(struct loader *ld, const char *name, int line)
{
    if (strcmp(name, "project") == 0) {
        if (ld->project_header != 0)
            fail(ld, line, "[project] appears twice (first at line %d); merge them",
                 ld->project_header);
        ld->project_header = line;
        return;
    }
    if (strncmp(name, "fleet.", 6) == 0) {
        fleet_header(ld, name, line);
        return;
    }
    if (strncmp(name, "env.", 4) != 0) {
        fail(ld, line, "unknown section [%s] (expected [project], [env.NAME] or [fleet.NAME])",
             name);
        return;
    }
    const char *env = name + 4;
    if (!config_valid_name(env)) {
        fail(ld, line, "[%s]: an environment name is letters, digits, '_' or '-'", name);
        return;
    }
    const struct env_config *seen = config_find_env(ld->cfg, env);
    if (seen != NULL) {
        fail(ld, line, "[%s] appears twice (first at line %d); merge them", name, seen->line);
        return;
    }
    if (ld->cfg->env_count == CONFIG_MAX_ENVS) {
        fail(ld, line, "too many environments (at most %d)", CONFIG_MAX_ENVS);
        return;
    }
    struct env_config *e = &ld->cfg->envs[ld->cfg->env_count++];
    e->name = xstrdup(env);
    e->line = line;
    env_defaults(e);
}

/* ---- keys -------------------------------------------------------------- */

/* What the lists in config.h say of each key besides its field. */
struct key_rule {
    const char *name;
    long long min, max;              /* COUNT */
    const char *words;               /* COUNT: what is expected; COMMAND: an example */
};

static const struct key_rule env_rules[CONFIG_ENV_KEY_COUNT] = {
#define X(key, field, kind, dflt, min, max, words) {#key, min, max, words},
    CONFIG_ENV_KEYS(X)
#undef X
};

static const char *const project_keys[CONFIG_PROJECT_KEY_COUNT] = {
#define X(key, field, dflt) #key,
    CONFIG_PROJECT_KEYS(X)
#undef X
};

/* "a, b, c" of a key table, for "unknown key" messages. */
static const char *key_list(const char *(*name)(int), int count, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < count && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", name(i));
    return buf;
}

static const char *env_key_name(int i) { return env_rules[i].name; }
static const char *project_key_name(int i) { return project_keys[i]; }

static int key_index(const char *(*name)(int), int count, const char *key)
{
    for (int i = 0; i < count; i++)
        if (strcmp(name(i), key) == 0)
            return i;
    return -1;
}

/* Marks key i as set on this line; false (and an error) when it was set before. */
static bool first_setting(struct loader *ld, int *lines, int i, const char *section,
                          const char *name)
{
    if (lines[i] != 0) {
        fail(ld, ld->line, "duplicate key '%s' in [%s] (first set at line %d)", name, section,
             lines[i]);
        return false;
    }
    lines[i] = ld->line;
    return true;
}

static void set_project_key(struct loader *ld, const char *name, const char *value)
{
    int i = key_index(project_key_name, CONFIG_PROJECT_KEY_COUNT, name);
    if (i < 0) {
        char known[200];
        fail(ld, ld->line, "unknown key '%s' in [project] (known: %s)", name,
             key_list(project_key_name, CONFIG_PROJECT_KEY_COUNT, known, sizeof known));
        return;
    }
    if (!first_setting(ld, ld->project_lines, i, "project", name))
        return;
    if (value[0] == '\0') {
        fail(ld, ld->line, "[project] %s is empty", name);
        return;
    }
    char **slot[CONFIG_PROJECT_KEY_COUNT] = {
#define X(key, field, dflt) &ld->cfg->field,
        CONFIG_PROJECT_KEYS(X)
#undef X
    };
    free(*slot[i]);
    *slot[i] = xstrdup(value);
}

/* ---- the kinds of [env.NAME] keys (config.h): a parser, a release ------- */

static void parse_URL(struct loader *ld, struct env_config *e, const struct key_rule *k,
                      const char *value, struct config_value *url)
{
    (void)e, (void)k;
    url->raw = xstrdup(value);
    url->line = ld->line;
}

static void parse_BOOL(struct loader *ld, struct env_config *e, const struct key_rule *k,
                       const char *value, bool *out)
{
    if (config_parse_bool(value, out) != 0)
        fail(ld, ld->line, "[env.%s] %s = '%s': expected true or false", e->name, k->name, value);
}

/* A duration: text for the server (TIMEOUT), or seconds (WAIT). */
static void parse_duration(struct loader *ld, struct env_config *e, const char *name,
                           const char *value, char **text, double *seconds)
{
    long long ms;
    int rc = config_parse_duration(value, &ms);
    if (rc == -1) {
        fail(ld, ld->line, "[env.%s] %s = '%.40s' is not a duration: write a number and one of "
             "the units PostgreSQL takes, ms, s, min, h or d (e.g. 500ms, 5s, 2min); a number "
             "alone is milliseconds", e->name, name, value);
        return;
    }
    if (rc == -2) {
        fail(ld, ld->line, "[env.%s] %s = '%.40s' is out of range: PostgreSQL takes whole "
             "milliseconds from 1ms to %lldms (about 24 days)%s", e->name, name, value,
             (long long)CONFIG_MAX_DURATION_MS, text ? ", or 0 for no timeout" : "");
        return;
    }
    if (text) {
        free(*text);
        *text = duration_text(value, ms);
    }
    if (seconds)
        *seconds = (double)ms / 1000.0;
}

static void parse_TIMEOUT(struct loader *ld, struct env_config *e, const struct key_rule *k,
                          const char *value, char **text)
{
    parse_duration(ld, e, k->name, value, text, NULL);
}

static void parse_WAIT(struct loader *ld, struct env_config *e, const struct key_rule *k,
                       const char *value, double *seconds)
{
    parse_duration(ld, e, k->name, value, NULL, seconds);
}

static void parse_ENV(struct loader *ld, struct env_config *e, const struct key_rule *k,
                      const char *value, char **name)
{
    if (!config_valid_name(value))
        fail(ld, ld->line, "[env.%s] %s = '%s' is not an environment name", e->name, k->name, value);
    else
        *name = xstrdup(value);
}

static void parse_COUNT(struct loader *ld, struct env_config *e, const struct key_rule *k,
                        const char *value, long long *count)
{
    if (parse_count(value, k->min, k->max, count) != 0)
        fail(ld, ld->line, "[env.%s] %s = '%.40s': expected %s from %lld to %lld", e->name,
             k->name, value, k->words, k->min, k->max);
}

static void parse_COMMAND(struct loader *ld, struct env_config *e, const struct key_rule *k,
                          const char *value, char **command)
{
    if (value[0] == '\0')
        fail(ld, ld->line, "[env.%s] %s is empty: name the command, e.g. %s", e->name, k->name,
             k->words);
    else
        *command = xstrdup(value);
}

static void free_URL(struct config_value *url) { free(url->raw); }
static void free_BOOL(bool *b) { (void)b; }
static void free_TIMEOUT(char **text) { free(*text); }
static void free_WAIT(double *seconds) { (void)seconds; }
static void free_ENV(char **name) { free(*name); }
static void free_COUNT(long long *n) { (void)n; }
static void free_COMMAND(char **command) { free(*command); }

static void set_env_key(struct loader *ld, struct env_config *e, int *lines, const char *kind,
                        const char *name, const char *value)
{
    int i = key_index(env_key_name, CONFIG_ENV_KEY_COUNT, name);
    if (i < 0) {
        char known[300];
        fail(ld, ld->line, "unknown key '%s' in [%s.%s] (known: %s)", name, kind, e->name,
             key_list(env_key_name, CONFIG_ENV_KEY_COUNT, known, sizeof known));
        return;
    }
    char section[300];
    snprintf(section, sizeof section, "%s.%s", kind, e->name);
    if (!first_setting(ld, lines, i, section, name))
        return;
    switch ((enum config_env_key)i) {
#define X(key, field, kind, dflt, min, max, words) \
    case CONFIG_ENV_##key: parse_##kind(ld, e, &env_rules[i], value, &e->field); break;
    CONFIG_ENV_KEYS(X)
#undef X
    case CONFIG_ENV_KEY_COUNT: break;
    }
}

/* ---- [fleet.NAME] keys ----------------------------------------------------- */

static const char *const fleet_keys[] = {"registry", "targets_query", "targets", "parallel",
                                         "waves", "on_error"};

/* "N" (a whole number from 1) or "N%" (1 to 100): 0 and the number, or -1. */
static int parse_share(const char *text, size_t len, bool *percent, long long *n)
{
    while (len > 0 && isspace((unsigned char)*text))
        text++, len--;
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        len--;
    *percent = len > 0 && text[len - 1] == '%';
    if (*percent)
        len--;
    char digits[24];
    if (len == 0 || len >= sizeof digits)
        return -1;
    memcpy(digits, text, len);
    digits[len] = '\0';
    return parse_count(digits, 1, *percent ? 100 : 1000000000, n);
}

bool config_valid_waves(const char *text)
{
    for (const char *p = text;;) {
        size_t len = strcspn(p, ",");
        bool percent;
        long long n;
        if (parse_share(p, len, &percent, &n) != 0)
            return false;
        if (p[len] == '\0')
            return true;
        p += len + 1;
    }
}

bool config_valid_on_error(const char *text)
{
    bool percent;
    long long n;
    return strcmp(text, "stop") == 0 || strcmp(text, "continue") == 0 ||
           parse_share(text, strlen(text), &percent, &n) == 0;
}

static void set_fleet_own_key(struct loader *ld, struct fleet_config *f, int i, const char *value)
{
    const char *name = fleet_keys[i];
    if (value[0] == '\0') {
        fail(ld, ld->line, "[fleet.%s] %s is empty", f->name, name);
        return;
    }
    switch (i) {
    case 0: f->registry.raw = xstrdup(value), f->registry.line = ld->line; break;
    case 1: f->targets_query = xstrdup(value); break;
    case 2: f->targets = xstrdup(value); break;
    case 3:
        if (parse_count(value, 1, CONFIG_FLEET_MAX_PARALLEL, &f->parallel) != 0)
            fail(ld, ld->line, "[fleet.%s] parallel = '%.40s': expected a whole number from 1 "
                 "to %d", f->name, value, CONFIG_FLEET_MAX_PARALLEL);
        break;
    case 4:
        if (!config_valid_waves(value))
            fail(ld, ld->line, "[fleet.%s] waves = '%.60s': expected a list of member counts or "
                 "percentages, e.g. 1, 10%%, 100%%", f->name, value);
        else
            f->waves = xstrdup(value);
        break;
    case 5:
        if (!config_valid_on_error(value))
            fail(ld, ld->line, "[fleet.%s] on_error = '%.40s': expected stop, continue, a number "
                 "of failed members (e.g. 3) or a share of them (e.g. 5%%)", f->name, value);
        else
            f->on_error = xstrdup(value);
        break;
    }
}

static void set_fleet_key(struct loader *ld, struct fleet_config *f, const char *name,
                          const char *value)
{
    size_t index = (size_t)(f - ld->cfg->fleets);
    for (int i = 0; i < (int)(sizeof fleet_keys / sizeof fleet_keys[0]); i++) {
        if (strcmp(name, fleet_keys[i]) != 0)
            continue;
        char section[300];
        snprintf(section, sizeof section, "fleet.%s", f->name);
        if (first_setting(ld, ld->fleet_own_lines[index], i, section, name))
            set_fleet_own_key(ld, f, i, value);
        return;
    }
    if (strcmp(name, "url") == 0) {
        fail(ld, ld->line, "[fleet.%s] has no url: each member has its own (from registry and "
             "targets_query, or from targets = FILE.lua)", f->name);
        return;
    }
    set_env_key(ld, &f->env, ld->fleet_lines[index], "fleet", name, value);
}

static int handle(void *user, const char *section, const char *name, const char *value)
{
    struct loader *ld = user;
    if (ld->failed)
        return 1;
    if (section[0] == '\0')
        fail(ld, ld->line, "'%s' is outside any section (put it under [project] or [env.NAME])", name);
    else if (strcmp(section, "project") == 0)
        set_project_key(ld, name, value);
    else if (strncmp(section, "env.", 4) == 0 && config_find_env(ld->cfg, section + 4)) {
        struct env_config *e = (struct env_config *)config_find_env(ld->cfg, section + 4);
        set_env_key(ld, e, ld->env_lines[e - ld->cfg->envs], "env", name, value);
    } else if (strncmp(section, "fleet.", 6) == 0 && config_find_fleet(ld->cfg, section + 6))
        set_fleet_key(ld, (struct fleet_config *)config_find_fleet(ld->cfg, section + 6), name,
                      value);
    return 1;                        /* our own errors are in ld; keep inih going */
}

/* ---- reading ----------------------------------------------------------- */

/* Section name of a "[name]" line (trimmed), or NULL. */
static const char *header_name(const char *line, size_t len, char *buf, size_t buflen)
{
    while (len > 0 && isspace((unsigned char)*line))
        line++, len--;
    while (len > 0 && isspace((unsigned char)line[len - 1]))
        len--;
    if (len < 2 || line[0] != '[')
        return NULL;
    const char *close = memchr(line, ']', len);
    if (close == NULL)
        return NULL;
    size_t n = (size_t)(close - line - 1);
    snprintf(buf, buflen, "%.*s", (int)(n < buflen ? n : buflen - 1), line + 1);
    return buf;
}

/* fgets-style reader over the in-memory text; counts lines. */
static char *read_line(char *str, int num, void *stream)
{
    struct loader *ld = stream;
    const char *start = ld->text + ld->pos;
    if (*start == '\0' || num < 2)
        return NULL;
    const char *nl = strchr(start, '\n');
    size_t line_len = nl ? (size_t)(nl - start) + 1 : strlen(start);
    size_t n = line_len < (size_t)num - 1 ? line_len : (size_t)num - 1;
    bool at_line_start = ld->pos == 0 || ld->text[ld->pos - 1] == '\n';
    if (at_line_start) {
        ld->line = ++ld->next_line;
        char name[256];
        if (header_name(start, line_len, name, sizeof name))
            section_header(ld, name, ld->line);
    }
    memcpy(str, start, n);
    str[n] = '\0';
    ld->pos += n;
    return str;
}

/* Reads the file into memory; rejects NUL bytes and overlong lines. */
static char *slurp(struct loader *ld)
{
    /* O_NONBLOCK and a regular file only: --config /dev/zero must not fill
     * memory, nor a FIFO wait for a writer */
    int fd = open(ld->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    const char *why = fd < 0 ? strerror(errno) : fstat(fd, &st) != 0 ? strerror(errno)
                    : S_ISDIR(st.st_mode) ? "it is a directory"
                    : !S_ISREG(st.st_mode) ? "it is not a regular file"
                    : st.st_size > CONFIG_MAX_SIZE ? "it is larger than 1 MiB" : NULL;
    FILE *f = why == NULL ? fdopen(fd, "rb") : NULL;
    if (f == NULL) {
        if (fd >= 0)
            close(fd);
        fail(ld, 0, "cannot read the configuration: %s (give another with --config FILE)",
             why ? why : strerror(errno));
        return NULL;
    }
    char *text = NULL;
    size_t len = 0, cap = 0, got;
    char chunk[8192];
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0 && len <= CONFIG_MAX_SIZE) {
        if (len + got + 1 > cap) {
            cap = (len + got + 1) * 2;
            char *grown = realloc(text, cap);
            if (grown == NULL)
                abort();
            text = grown;
        }
        memcpy(text + len, chunk, got);
        len += got;
    }
    bool read_error = ferror(f);
    fclose(f);
    if (read_error) {
        free(text);
        fail(ld, 0, "cannot read the configuration: %s", strerror(errno));
        return NULL;
    }
    if (text == NULL)
        text = xstrdup("");
    text[len] = '\0';
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        memmove(text, text + 3, (len -= 3) + 1);   /* a UTF-8 BOM is not content */
    int line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\0') {
            fail(ld, line, "contains a NUL byte: this is not a text INI file");
            break;
        }
        if (text[i] == '\n' || i + 1 == len) {
            if (i - line_start > CONFIG_MAX_LINE - 4) {
                fail(ld, line, "line is longer than %d characters", CONFIG_MAX_LINE - 4);
                break;
            }
            line++;
            line_start = i + 1;
        }
    }
    if (ld->failed) {
        free(text);
        return NULL;
    }
    return text;
}

/* ---- load -------------------------------------------------------------- */

static char *resolve_path(const char *dir, const char *value)
{
    if (value[0] == '/')
        return xstrdup(value);
    char *joined = NULL;
    if (asprintf(&joined, "%s/%s", dir, value) < 0)
        abort();
    return joined;
}

static char *config_directory(const char *path)
{
    char *copy = xstrdup(path), *slash = strrchr(copy, '/');
    const char *dir = ".";
    if (slash == copy)
        dir = "/";
    else if (slash != NULL)
        *slash = '\0', dir = copy;
    char resolved[PATH_MAX];
    char *abs = realpath(dir, resolved) ? xstrdup(resolved) : NULL;
    free(copy);
    return abs;
}

/* Each [project] path made absolute against the INI's folder; its default
 * when it was not given. */
static void resolve_paths(struct loader *ld)
{
    struct config *cfg = ld->cfg;
#define X(key, field, dflt) \
    { \
        char *given = cfg->field; \
        const char *path = given ? given : dflt; \
        cfg->field = path ? resolve_path(cfg->dir, path) : NULL; \
        free(given); \
    }
    CONFIG_PROJECT_KEYS(X)
#undef X
}

static void validate(struct loader *ld)
{
    struct config *cfg = ld->cfg;
    for (size_t i = 0; i < cfg->env_count && !ld->failed; i++) {
        struct env_config *e = &cfg->envs[i];
        if (e->is_protected && e->lock_timeout == NULL)
            e->lock_timeout = xstrdup(DEFAULT_PROTECTED_LOCK_TIMEOUT);
        if (ld->env_lines[i][CONFIG_ENV_rehearse] == 0)     /* opt-in where protected */
            e->rehearse = !e->is_protected;
        if (e->url.raw == NULL)
            fail(ld, e->line, "[env.%s] has no url (add: url = postgresql://HOST/DBNAME)", e->name);
        else if (e->promote_from && !config_find_env(cfg, e->promote_from))
            fail(ld, ld->env_lines[i][CONFIG_ENV_promote_from], "[env.%s] promote_from = %s: there is no [env.%s]",
                 e->name, e->promote_from, e->promote_from);
        else if (e->promote_from && strcmp(e->promote_from, e->name) == 0)
            fail(ld, ld->env_lines[i][CONFIG_ENV_promote_from], "[env.%s] cannot promote from itself", e->name);
    }
}

static void validate_fleets(struct loader *ld)
{
    struct config *cfg = ld->cfg;
    for (size_t i = 0; i < cfg->fleet_count && !ld->failed; i++) {
        struct fleet_config *f = &cfg->fleets[i];
        struct env_config *e = &f->env;
        if (e->is_protected && e->lock_timeout == NULL)
            e->lock_timeout = xstrdup(DEFAULT_PROTECTED_LOCK_TIMEOUT);
        if (ld->fleet_lines[i][CONFIG_ENV_rehearse] == 0)
            e->rehearse = !e->is_protected;
        if (f->waves == NULL)
            f->waves = xstrdup("100%");
        if (f->on_error == NULL)
            f->on_error = xstrdup("stop");
        bool query = f->registry.raw || f->targets_query, file = f->targets != NULL;
        if (config_find_env(cfg, f->name))
            fail(ld, f->line, "[fleet.%s] has the name of [env.%s]: rename one (promote_from "
                 "names either)", f->name, f->name);
        else if (query && file)
            fail(ld, f->line, "[fleet.%s] has both targets and registry/targets_query: its "
                 "members come from one of them", f->name);
        else if (!file && (f->registry.raw == NULL || f->targets_query == NULL))
            fail(ld, f->line, "[fleet.%s] names no members: add registry = URL and "
                 "targets_query = SELECT name, url FROM ..., or targets = FILE.lua", f->name);
        else if (e->promote_from && !config_find_env(cfg, e->promote_from) &&
                 !config_find_fleet(cfg, e->promote_from))
            fail(ld, ld->fleet_lines[i][CONFIG_ENV_promote_from], "[fleet.%s] promote_from = %s: "
                 "there is no [env.%s] or [fleet.%s]", f->name, e->promote_from, e->promote_from,
                 e->promote_from);
        else if (e->promote_from && strcmp(e->promote_from, f->name) == 0)
            fail(ld, ld->fleet_lines[i][CONFIG_ENV_promote_from], "[fleet.%s] cannot promote "
                 "from itself", f->name);
        if (file && !ld->failed) {
            char *given = f->targets;
            f->targets = resolve_path(cfg->dir, given);
            free(given);
        }
    }
}

int config_load(const char *path, struct config *cfg, struct config_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    memset(err, 0, sizeof *err);
    config_hide_pg_environment();
    struct loader ld = {.path = path, .cfg = cfg, .err = err};
    cfg->path = xstrdup(path);
    char *text = slurp(&ld);
    if (text == NULL)
        goto failed;
    cfg->dir = config_directory(path);
    if (cfg->dir == NULL) {
        fail(&ld, 0, "cannot resolve the configuration's directory: %s", strerror(errno));
        goto failed;
    }
    ld.text = text;
    ini_max_line = CONFIG_MAX_LINE;  /* Debian's inih reads these at run time */
    ini_initial_alloc = CONFIG_MAX_LINE;
    ini_use_stack = false;
    ini_allow_realloc = false;
    ini_allow_multiline = false;
    int bad_line = ini_parse_stream(read_line, &ld, handle, &ld);
    if (bad_line > 0)
        fail(&ld, bad_line, "malformed line (expected 'key = value' or '[section]')");
    else if (bad_line < 0)
        fail(&ld, 0, "cannot parse the configuration (inih error %d)", bad_line);
    if (!ld.failed)
        validate(&ld);
    if (!ld.failed)
        validate_fleets(&ld);
    free(text);
    if (ld.failed)
        goto failed;
    resolve_paths(&ld);
    return 0;
failed:
    config_free(cfg);
    return -1;
}

void config_free(struct config *cfg)
{
    for (size_t i = 0; i < cfg->env_count; i++) {
        struct env_config *e = &cfg->envs[i];
        free(e->name);
#define X(key, field, kind, dflt, min, max, words) free_##kind(&e->field);
        CONFIG_ENV_KEYS(X)
#undef X
    }
    for (size_t i = 0; i < cfg->fleet_count; i++) {
        struct fleet_config *f = &cfg->fleets[i];
        free(f->name);
        free(f->env.name);
#define X(key, field, kind, dflt, min, max, words) free_##kind(&f->env.field);
        CONFIG_ENV_KEYS(X)
#undef X
        free(f->registry.raw);
        free(f->targets_query);
        free(f->targets);
        free(f->waves);
        free(f->on_error);
    }
    free(cfg->path);
    free(cfg->dir);
#define X(key, field, dflt) free(cfg->field);
    CONFIG_PROJECT_KEYS(X)
#undef X
    memset(cfg, 0, sizeof *cfg);
}
