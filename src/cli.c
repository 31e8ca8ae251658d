/* cli.c — option table, parsing and the usage text. */
#include "cli.h"

#include "msg.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum opt_id {
    OPT_ENV, OPT_CONFIG, OPT_YES, OPT_JSON, OPT_HELP, OPT_VERSION, OPT_REASON,
    OPT_SKIP_PROMOTION_CHECK, OPT_NO_BACKUP, OPT_ACCEPT_DATA_LOSS, OPT_RESTAMP_FROM,
    OPT_ALLOW_ADHOC_SQL, OPT_FLEET, OPT_MEMBER,
};

static const struct option_spec {
    enum opt_id id;
    const char *name;
    const char *arg;                 /* NULL for a flag */
    const char *help;
} options[] = {
    {OPT_ENV, "--env", "NAME", "environment from stallmig.ini ([env.NAME])"},
    {OPT_CONFIG, "--config", "FILE", "configuration file (default ./stallmig.ini)"},
    {OPT_YES, "--yes", NULL, "confirm changes to protected environments without a prompt"},
    {OPT_JSON, "--json", NULL, "print one JSON document on stdout instead of text"},
    {OPT_HELP, "--help", NULL, "show this help and the workflows found"},
    {OPT_VERSION, "--version", NULL, "show the version"},
    {OPT_REASON, "--reason", "TEXT", "why: recorded with every override used (and by resolve)"},
    {OPT_SKIP_PROMOTION_CHECK, "--skip-promotion-check", NULL,
     "override: apply what promote_from's environment has not applied"},
    {OPT_NO_BACKUP, "--no-backup", NULL, "override: no backup where backup = true"},
    {OPT_ACCEPT_DATA_LOSS, "--accept-data-loss", NULL,
     "override: apply migrations the review says lose data on a protected environment"},
    {OPT_RESTAMP_FROM, "--restamp-from", "ENV",
     "override: re-stamp a database marked as protected ENV without a terminal"},
    {OPT_ALLOW_ADHOC_SQL, "--allow-adhoc-sql", NULL,
     "override: let a script write other SQL to a protected environment"},
    {OPT_FLEET, "--fleet", "NAME", "fleet from stallmig.ini ([fleet.NAME]): every member"},
    {OPT_MEMBER, "--member", "NAME",
     "with --fleet: one member, its url read from stdin (what a fleet run starts)"},
};
#define OPTION_COUNT (sizeof options / sizeof options[0])

static const struct option_spec *find_option(const char *arg, const char **value)
{
    *value = NULL;
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        size_t n = strlen(options[i].name);
        if (strncmp(arg, options[i].name, n) != 0)
            continue;
        if (arg[n] == '\0')
            return &options[i];
        if (arg[n] == '=' && options[i].arg) {
            *value = arg + n + 1;
            return &options[i];
        }
    }
    return NULL;
}

static int take_value(const struct option_spec *o, int argc, char **argv, int *i,
                      const char **value, char *err, unsigned errlen)
{
    if (*value == NULL) {
        if (*i + 1 >= argc) {
            snprintf(err, errlen, "%s needs a value: %s %s", o->name, o->name, o->arg);
            return -1;
        }
        *value = argv[++*i];
    }
    if ((*value)[0] == '\0') {
        snprintf(err, errlen, "%s needs a non-empty value", o->name);
        return -1;
    }
    return 0;
}

static int apply_option(struct cli *out, const struct option_spec *o, const char *value)
{
    struct overrides *ov = &out->overrides;
    switch (o->id) {
    case OPT_ENV: out->env = value; break;
    case OPT_CONFIG: out->config = value; break;
    case OPT_YES: out->yes = true; break;
    case OPT_JSON: out->json = true; break;
    case OPT_HELP: out->help = true; break;
    case OPT_VERSION: out->version = true; break;
    case OPT_REASON: ov->reason = value; break;
    case OPT_SKIP_PROMOTION_CHECK: ov->given[OVERRIDE_SKIP_PROMOTION_CHECK] = true; break;
    case OPT_NO_BACKUP: ov->given[OVERRIDE_NO_BACKUP] = true; break;
    case OPT_ACCEPT_DATA_LOSS: ov->given[OVERRIDE_ACCEPT_DATA_LOSS] = true; break;
    case OPT_RESTAMP_FROM:
        ov->given[OVERRIDE_RESTAMP_FROM] = true;
        ov->restamp_from = value;
        break;
    case OPT_ALLOW_ADHOC_SQL: ov->given[OVERRIDE_ALLOW_ADHOC_SQL] = true; break;
    case OPT_FLEET: out->fleet = value; break;
    case OPT_MEMBER: out->member = value; break;
    }
    return 0;
}

int cli_parse(int argc, char **argv, struct cli *out, char *err, unsigned errlen)
{
    memset(out, 0, sizeof *out);
    out->config = "stallmig.ini";
    out->argv = calloc((size_t)argc + 1, sizeof *out->argv);
    if (out->argv == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 1; i < argc; i++) {
        const char *value = NULL;
        const struct option_spec *o = find_option(argv[i], &value);
        if (o == NULL) {
            if (out->workflow == NULL && argv[i][0] != '-')
                out->workflow = argv[i];
            else
                out->argv[out->argc++] = argv[i];
            continue;
        }
        if (o->arg && take_value(o, argc, argv, &i, &value, err, errlen) != 0)
            return -1;
        apply_option(out, o, value);
    }
    if (out->workflow == NULL && !out->help && !out->version) {
        snprintf(err, errlen, "no workflow given: stallrun WORKFLOW.lua [--env NAME] ... "
                 "(stallrun --help lists them)");
        return -1;
    }
    if (out->fleet && out->env) {
        snprintf(err, errlen, "--fleet and --env cannot be given together: a fleet's members "
                 "are its environments");
        return -1;
    }
    if (out->member && !out->fleet) {
        snprintf(err, errlen, "--member needs --fleet NAME");
        return -1;
    }
    return overrides_check(&out->overrides, err, errlen);
}

void cli_free(struct cli *cli)
{
    free(cli->argv);
    cli->argv = NULL;
}

/* The first line of a workflow, "-- text", is its description. */
static void print_workflow(const char *dir, const char *name)
{
    char path[4096], line[256] = "";
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    if (fgets(line, sizeof line, f) == NULL)
        line[0] = '\0';
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    const char *text = strncmp(line, "-- ", 3) == 0 ? line + 3 : "";
    const char *dash = strstr(text, " — ");
    if (dash && strncmp(text, name, strlen(name)) == 0)
        text = dash + strlen(" — ");
    char shown[4600];                /* through msg: a name or a first line can hold escapes */
    snprintf(shown, sizeof shown, "  %s/%-12s %s\n", dir, name, text);
    msg_write(stdout, shown);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void print_workflows(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    char *names[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 256) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".lua") == 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        if (names[i])
            print_workflow(dir, names[i]);
        free(names[i]);
    }
}

void cli_print_help(const char *const *workflow_dirs)
{
    printf("usage: stallrun WORKFLOW.lua [--env NAME] [--config FILE] [--yes] [--json] "
           "[workflow options...]\n       stallrun --version | --help\n\noptions:\n");
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        char left[40];
        snprintf(left, sizeof left, "%s%s%s", options[i].name, options[i].arg ? " " : "",
                 options[i].arg ? options[i].arg : "");
        printf("  %-24s %s\n", left, options[i].help);
    }
    printf("\nworkflows:\n");
    for (size_t i = 0; workflow_dirs[i]; i++)
        print_workflows(workflow_dirs[i]);
    printf("\nexit status: 0 success, 1 the work failed, 2 usage or configuration error, "
           "3 refused by a safety guard\n");
}
