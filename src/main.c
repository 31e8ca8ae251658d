/* main.c — argv -> run -> exit status. The only place that decides it. */
#include "cli.h"
#include "config.h"
#include "host.h"
#include "lconn.h"
#include "msg.h"
#include "run.h"
#include "sigwatch.h"
#include "sqlparse.h"
#include "hash.h"

#include <libgen.h>
#include <libpq-fe.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STALLMIG_VERSION "0.1.0"

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The directory holding lua/ and workflows/: next to the binary or up to
 * three levels above it in a build tree (build/asan/stallrun), or
 * <prefix>/share/stallmig once installed. */
static int find_root(char *root, size_t size)
{
    char exe[PATH_MAX], probe[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    char *dir = dirname(exe);
    snprintf(probe, sizeof probe, "%s/../share/stallmig/lua/stallmig", dir);
    if (is_dir(probe))
        return snprintf(root, size, "%s/../share/stallmig", dir) < (int)size ? 0 : -1;
    for (int up = 0; up <= 3; up++) {
        size_t len = strlen(dir);
        if (snprintf(probe, sizeof probe, "%s/lua/stallmig", dir) < (int)sizeof probe && is_dir(probe))
            return snprintf(root, size, "%s", dir) < (int)size ? 0 : -1;
        if (len <= 1)
            break;
        dir = dirname(dir);
    }
    return -1;
}

/* A workflow is looked up as given, then among the host's own workflows. */
static int find_workflow(const char *given, const char *root, char *out, size_t size)
{
    if (!is_file(given) && given[0] != '/') {
        if (snprintf(out, size, "%s/%s", root, given) < (int)size && is_file(out))
            return 0;
        if (snprintf(out, size, "%s/workflows/%s", root, given) < (int)size && is_file(out))
            return 0;
    }
    return snprintf(out, size, "%s", given) < (int)size ? 0 : -1;
}

static void list_environments(const struct config *cfg, char *out, size_t size)
{
    out[0] = '\0';
    for (size_t i = 0; i < cfg->env_count; i++) {
        size_t len = strlen(out);
        snprintf(out + len, size - len, "%s%s", i ? ", " : "", cfg->envs[i].name);
    }
}

/* Loads the configuration and checks --env; returns 0 or an exit status. */
static int prepare_config(const struct cli *cli, struct config *cfg)
{
    struct config_error err;
    if (config_load(cli->config, cfg, &err) != 0) {
        msg_error("%s", err.message);
        if (access(cli->config, F_OK) != 0)
            msg_hint("run stallrun from your project's directory or pass --config FILE");
        else if (err.line > 0)
            msg_hint("fix %s at the line named above (README.md, section stallmig.ini, lists "
                     "the sections and keys)", cli->config);
        else
            msg_hint("pass --config with the path of your project's stallmig.ini");
        return 2;
    }
    /* "all" means every environment, for the workflows that take it */
    if (cli->env && strcmp(cli->env, "all") != 0 && config_find_env(cfg, cli->env) == NULL) {
        char names[1024];
        list_environments(cfg, names, sizeof names);
        msg_error("unknown environment '%s': %s defines %s", cli->env, cfg->path,
                  names[0] ? names : "no environments");
        msg_hint("pass --env with one of those names, or add an [env.%s] section with a url",
                 cli->env);
        config_free(cfg);
        return 2;
    }
    return 0;
}

/* One line of stdin without its line break, into buf; false at EOF. */
static bool read_stdin_line(char *buf, size_t size)
{
    if (fgets(buf, (int)size, stdin) == NULL)
        return false;
    buf[strcspn(buf, "\r\n")] = '\0';
    return true;
}

/* --fleet NAME: the fleet must exist; with --member, the member becomes
 * the run's environment ("FLEET.MEMBER"), its url (and, where the fleet
 * promotes from another fleet, that fleet's url of the same member) read
 * from stdin, never from argv or the environment, where other users or
 * child processes could read the password. 0, or an exit status. */
static int prepare_fleet(const struct cli *cli, struct config *cfg, const char **env)
{
    if (cli->fleet == NULL)
        return 0;
    if (config_find_fleet(cfg, cli->fleet) == NULL) {
        msg_error("unknown fleet '%s': %s has no [fleet.%s]", cli->fleet, cfg->path, cli->fleet);
        msg_hint("pass --fleet with the name of a [fleet.NAME] section (docs/fleet.md)");
        return 2;
    }
    if (cli->member == NULL)
        return 0;
    char url[CONFIG_MAX_LINE], promote_url[CONFIG_MAX_LINE] = "";
    bool got = read_stdin_line(url, sizeof url);
    if (got)
        read_stdin_line(promote_url, sizeof promote_url);
    struct config_error err;
    const struct env_config *e = got ? config_add_member(cfg, cli->fleet, cli->member, url,
                                                         promote_url, &err) : NULL;
    explicit_bzero(url, sizeof url);
    explicit_bzero(promote_url, sizeof promote_url);
    if (e == NULL) {
        msg_error("%s", got ? err.message : "--member: no url on stdin");
        msg_hint("--member is what a fleet run starts for each member (stallrun WORKFLOW "
                 "--fleet NAME runs them all); by hand, give the member's url on stdin");
        return 2;
    }
    *env = e->name;
    return 0;
}

/* An override the run gave but no gate relied on: said, so that nobody
 * believes it was recorded. */
static void warn_unused_overrides(const struct overrides *ov)
{
    for (int o = 0; o < OVERRIDE_COUNT; o++)
        if (ov->given[o] && !ov->used[o])
            msg_warn("%s was given but nothing needed it, so it was not used or recorded",
                     override_option((enum override)o));
}

static int run(const struct cli *cli, const char *root)
{
    char workflow[PATH_MAX];
    if (find_workflow(cli->workflow, root, workflow, sizeof workflow) != 0) {
        msg_error("the workflow path is too long");
        return 2;
    }
    struct config cfg;
    int status = prepare_config(cli, &cfg);
    if (status != 0)
        return status;
    const char *env = cli->env;
    status = prepare_fleet(cli, &cfg, &env);
    if (status != 0) {
        config_free(&cfg);
        return status;
    }
    char name[128];
    const char *base = strrchr(workflow, '/');
    base = base ? base + 1 : workflow;
    size_t name_len = strcspn(base, ".");
    if (name_len >= sizeof name)
        name_len = sizeof name - 1;
    memcpy(name, base, name_len);
    name[name_len] = '\0';
    struct run rn = {
        .cfg = &cfg, .root = root, .yes = cli->yes, .overrides = cli->overrides,
        .argc = cli->argc, .argv = cli->argv,
    };
    snprintf(rn.workflow, sizeof rn.workflow, "%s", name);
    lconn_set_run(&rn);
    struct host_run hr = {
        .workflow = workflow, .root = root, .cfg = &cfg, .env = env,
        .fleet = cli->fleet, .member = cli->member,
        .yes = cli->yes, .json = cli->json, .overrides = &cli->overrides,
        .argc = cli->argc, .argv = cli->argv,
    };
    status = host_run_workflow(&hr);
    warn_unused_overrides(&rn.overrides);
    lconn_set_run(NULL);
    config_free(&cfg);
    return status;
}

/* Lists ./workflows (a project's own) and the bundled ones, once each. */
static void print_help(const char *root)
{
    char bundled[PATH_MAX + 16], bundled_real[PATH_MAX], here[PATH_MAX];
    snprintf(bundled, sizeof bundled, "%s/workflows", root);
    const char *dirs[3] = {bundled, NULL, NULL};
    if (realpath("workflows", here) != NULL) {
        dirs[0] = "workflows";
        if (realpath(bundled, bundled_real) == NULL || strcmp(here, bundled_real) != 0)
            dirs[1] = bundled;
    }
    cli_print_help(dirs);
}

static int run_main(int argc, char **argv)
{
    struct cli cli;
    char err[512], root[PATH_MAX];
    if (cli_parse(argc, argv, &cli, err, sizeof err) != 0) {
        msg_error("%s", err);
        cli_free(&cli);
        return 2;
    }
    if (cli.version) {
        printf("stallrun %s (Lua 5.4, libpq %d, PostgreSQL parser %s)\n", STALLMIG_VERSION,
               PQlibVersion(), "15");
        cli_free(&cli);
        return 0;
    }
    if (find_root(root, sizeof root) != 0) {
        msg_error("cannot find stallrun's Lua library (lua/stallmig) next to the binary");
        msg_hint("run the stallrun built in the source tree, or install it with make install");
        cli_free(&cli);
        return 2;
    }
    if (cli.help) {
        print_help(root);
        cli_free(&cli);
        return 0;
    }
    msg_add_secret(getenv("PGPASSWORD"));
    int status = run(&cli, root);
    cli_free(&cli);
    msg_clear_secrets();
    sql_release();
    hash_release();
    return status;
}

/* Output errors never stop a run (a closed pipe or a full disk in the middle
 * of a migration): SIGPIPE does nothing, writes fail instead, and the run
 * ends with a non-zero status and one line saying so. */
int main(int argc, char **argv)
{
    /* One malloc arena for every thread. The migration scan lists, reads and
     * hashes on threads of its own; with an arena each, what they allocate
     * (a name and a cache record per migration) stays with those arenas once
     * freed, and the Lua states the main thread fills next cannot reuse it:
     * 2 MB of an apply-all of 10,000's peak RSS (issue 14). The threads
     * allocate little and mostly from their own caches (tcache), so they
     * hardly ever wait for the arena's lock. */
    mallopt(M_ARENA_MAX, 1);
    sigwatch_catch_sigpipe();
    return msg_finish(run_main(argc, argv));
}
