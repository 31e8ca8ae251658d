/* lapi_files.c — stallmig.files: directory listing, reading, hashing. */
#include "lapi.h"
#include "hash.h"
#include "lerror.h"
#include "migration.h"

#include <dirent.h>
#include <errno.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static int raise_io(lua_State *L, const char *what, const char *path, int err)
{
    lerror_push(L, "io", "cannot %s %s: %s", what, path, strerror(err));
    lerror_set(L, "file", path);
    return lerror_throw(L);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *entry_type(const char *dir, const char *name)
{
    char *path = NULL;
    struct stat st;
    if (asprintf(&path, "%s/%s", dir, name) < 0)
        return "unknown";
    int rc = stat(path, &st);
    free(path);
    if (rc != 0)
        return "broken";
    return S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file" : "other";
}

/* Reads dir's names (without . and ..) into a malloc'd sorted array. */
static char **read_names(const char *dir, size_t *count, int *err)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return *err = errno, NULL;
    size_t n = 0, cap = 64;
    char **names = malloc(cap * sizeof *names);
    struct dirent *e;
    while (names && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == cap) {
            char **grown = realloc(names, (cap *= 2) * sizeof *names);
            if (grown == NULL)
                break;
            names = grown;
        }
        if ((names[n] = strdup(e->d_name)) == NULL)
            break;
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, compare_names);
    *count = n;
    return names;
}

/* files.list(dir) -> { {name=, type="dir"|"file"|"other"|"broken"}, ... }
 * sorted byte-wise by name (strcmp), the order migrations apply in. */
static int files_list(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 1);
    size_t count = 0;
    int err = 0;
    char **names = read_names(dir, &count, &err);
    if (names == NULL)
        return raise_io(L, "list", dir, err ? err : ENOMEM);
    lua_createtable(L, (int)count, 0);
    for (size_t i = 0; i < count; i++) {
        lua_createtable(L, 0, 2);
        lua_pushstring(L, names[i]);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, entry_type(dir, names[i]));
        lua_setfield(L, -2, "type");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
        free(names[i]);
        names[i] = NULL;
    }
    free(names);
    return 1;
}

/* files.read(path) -> string (the file's bytes). */
static int files_read(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return raise_io(L, "read", path, errno);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    size_t got;
    do {
        char *space = luaL_prepbuffer(&b);
        got = fread(space, 1, LUAL_BUFFERSIZE, f);
        luaL_addsize(&b, got);
    } while (got == LUAL_BUFFERSIZE);
    int err = ferror(f) ? errno : 0;
    fclose(f);
    if (err)
        return raise_io(L, "read", path, err ? err : EIO);
    luaL_pushresult(&b);
    return 1;
}

/* files.kind(path) -> "file" | "dir" | "other" | nil (does not exist). */
static int files_kind(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    struct stat st;
    if (stat(path, &st) != 0) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushstring(L, S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file" : "other");
    return 1;
}

/* files.sha256(data) -> 64 lowercase hex digits. */
static int files_sha256(lua_State *L)
{
    size_t len;
    const char *data = luaL_checklstring(L, 1, &len);
    char hex[HASH_HEX_LEN + 1];
    if (hash_sha256_hex(data, len, hex) != 0)
        return lerror_raise(L, "runtime", "SHA-256 failed (OpenSSL)");
    lua_pushstring(L, hex);
    return 1;
}

/* files.checksum_matches(content, stored_hex) -> boolean (see migration.h). */
static int files_checksum_matches(lua_State *L)
{
    size_t len;
    const char *content = luaL_checklstring(L, 1, &len);
    const char *stored = luaL_checkstring(L, 2);
    lua_pushboolean(L, migration_checksum_matches(content, len, stored));
    return 1;
}

/* files.name_problem(name) -> string or nil; files.name_is_conventional(name). */
static int files_name_problem(lua_State *L)
{
    const char *problem = migration_name_problem(luaL_checkstring(L, 1));
    if (problem)
        lua_pushstring(L, problem);
    else
        lua_pushnil(L);
    return 1;
}

static int files_name_is_conventional(lua_State *L)
{
    lua_pushboolean(L, migration_name_is_conventional(luaL_checkstring(L, 1)));
    return 1;
}

/* Reads a whole file at dirfd/path into a malloc'd buffer. 0 or an errno. */
static int read_at(int dirfd, const char *path, char **data, size_t *len)
{
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return err;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = malloc(cap);
    ssize_t got = 0;
    while (buf && (got = read(fd, buf + n, cap - n)) > 0) {
        n += (size_t)got;
        if (n == cap) {
            char *grown = realloc(buf, cap *= 2);
            if (grown == NULL)
                break;
            buf = grown;
        }
    }
    int err = buf == NULL || got < 0 || n == cap ? (got < 0 ? errno : ENOMEM) : 0;
    close(fd);
    if (err) {
        free(buf);
        return err;
    }
    *data = buf;
    *len = n;
    return 0;
}

/* One folder's entry: {name, checksum, size, has_down} or {name, problem}. */
static void push_migration(lua_State *L, int dirfd, const char *name)
{
    char path[600], hex[HASH_HEX_LEN + 1];
    lua_createtable(L, 0, 5);
    lua_pushstring(L, name);
    lua_setfield(L, -2, "name");
    snprintf(path, sizeof path, "%s/migration.sql", name);
    char *data = NULL;
    size_t len = 0;
    int err = read_at(dirfd, path, &data, &len);
    if (err == 0 && hash_sha256_hex(data, len, hex) != 0)
        err = EIO;
    free(data);
    if (err != 0) {
        lua_pushstring(L, err == ENOENT ? "has no migration.sql" : strerror(err));
        lua_setfield(L, -2, "problem");
        return;
    }
    lua_pushstring(L, hex);
    lua_setfield(L, -2, "checksum");
    lua_pushinteger(L, (lua_Integer)len);
    lua_setfield(L, -2, "size");
    snprintf(path, sizeof path, "%s/down.sql", name);
    lua_pushboolean(L, faccessat(dirfd, path, F_OK, 0) == 0);
    lua_setfield(L, -2, "has_down");
}

/* files.migrations(dir) -> { {name=, checksum=, size=, has_down=} | {name=, problem=}, ... }
 * Every sub-folder of dir in byte-wise order of its name, its migration.sql
 * read and hashed; plain files (migration_lock.toml, README) are skipped. */
static int files_migrations(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 1);
    size_t count = 0;
    int err = 0;
    char **names = read_names(dir, &count, &err);
    int dirfd = names ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (dirfd < 0) {
        err = names ? errno : err ? err : ENOMEM;
        for (size_t i = 0; names && i < count; i++)
            free(names[i]);
        free(names);
        return raise_io(L, "list the migrations folder", dir, err);
    }
    lua_createtable(L, (int)count, 0);
    lua_Integer n = 0;
    for (size_t i = 0; i < count; i++) {
        struct stat st;
        if (fstatat(dirfd, names[i], &st, 0) == 0 && S_ISDIR(st.st_mode)) {
            push_migration(L, dirfd, names[i]);
            lua_rawseti(L, -2, ++n);
        }
        free(names[i]);
    }
    free(names);
    close(dirfd);
    return 1;
}

static const luaL_Reg files_functions[] = {
    {"migrations", files_migrations},
    {"list", files_list},
    {"read", files_read},
    {"kind", files_kind},
    {"sha256", files_sha256},
    {"checksum_matches", files_checksum_matches},
    {"name_problem", files_name_problem},
    {"name_is_conventional", files_name_is_conventional},
    {NULL, NULL},
};

int luaopen_stallmig_files(lua_State *L)
{
    luaL_newlib(L, files_functions);
    return 1;
}
