/* fuzz_config.c — stallmig.ini loading and ${VAR} interpolation on arbitrary
 * bytes. config_load reads a path, so each input is written to one temporary
 * file; a few variables are set so that ${VAR}, ${VAR:-x} and unset ones are
 * all reachable, and every loaded environment's URL is interpolated. */
#include "config.h"

#undef NDEBUG                        /* the invariants are the point */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[] = "/tmp/stallmig-fuzz-config-XXXXXX";
static int fd = -1;

static void remove_file(void)
{
    unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fd = mkstemp(path);
    if (fd < 0) {
        perror("fuzz_config: mkstemp");
        exit(1);
    }
    atexit(remove_file);
    setenv("DATABASE_URL", "postgresql://app:s3cret@db/prod", 1);
    setenv("A", "x", 1);
    setenv("EMPTY", "", 1);
    unsetenv("UNSET");
    return 0;
}

static void write_input(const uint8_t *data, size_t size)
{
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size) {
        perror("fuzz_config: write");
        exit(1);
    }
}

/* Every message is NUL-terminated inside its buffer and starts with the path. */
static void check_error(const struct config_error *err)
{
    assert(memchr(err->message, '\0', sizeof err->message) != NULL);
    assert(strncmp(err->message, path, strlen(path)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    write_input(data, size);
    struct config cfg;
    struct config_error err;
    if (config_load(path, &cfg, &err) != 0) {
        check_error(&err);
        return 0;
    }
    assert(cfg.env_count <= CONFIG_MAX_ENVS);
    assert(cfg.migrations_dir != NULL && cfg.migrations_dir[0] == '/');
    for (size_t i = 0; i < cfg.env_count; i++) {
        const struct env_config *e = &cfg.envs[i];
        assert(config_find_env(&cfg, e->name) == e);
        char *url = config_env_url(&cfg, e, &err);
        if (url == NULL)
            check_error(&err);
        else
            assert(url[0] != '\0' && (strstr(e->url.raw, "${") != NULL || strcmp(url, e->url.raw) == 0));
        free(url);
    }
    config_free(&cfg);
    return 0;
}
