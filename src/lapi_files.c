/* lapi_files.c — stallmig.files: directory listing, reading, hashing. */
#include "lapi.h"
#include "hash.h"
#include "config.h"
#include "lconn.h"
#include "lerror.h"
#include "migration.h"
#include "gate.h"
#include "scan.h"

#include <dirent.h>
#include <stdio.h>
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

/* files.read(path) -> string (the file's bytes). A regular file only: a
 * device such as /dev/zero would fill memory, a FIFO wait for a writer. */
static int files_read(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    int err = fd < 0 || fstat(fd, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR
            : !S_ISREG(st.st_mode) ? EINVAL : 0;
    FILE *f = err == 0 ? fdopen(fd, "rb") : NULL;
    if (f == NULL) {
        if (err == 0)
            err = errno;
        if (fd >= 0)
            close(fd);
        if (err == EINVAL)
            return lerror_raise(L, "io", "cannot read %s: it is not a regular file", path);
        return raise_io(L, "read", path, err);
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    size_t got;
    do {
        char *space = luaL_prepbuffer(&b);
        got = fread(space, 1, LUAL_BUFFERSIZE, f);
        luaL_addsize(&b, got);
    } while (got == LUAL_BUFFERSIZE);
    err = ferror(f) ? errno : 0;
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

#define SCAN_MT "stallmig.scan"

/* files.scan(dir) -> scan; reads and hashes every migration folder of dir on
 * a background thread, so it overlaps with connecting to the database. The
 * project's own migrations folder is read through its checksum cache,
 * .stallmig/checksums next to stallmig.ini (scan_cache.h): the host, not
 * the script, names the cache. */
static int files_scan(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 1);
    const struct config *cfg = lconn_config();
    char cache[4096];
    bool cached = cfg && cfg->migrations_dir && cfg->dir && strcmp(dir, cfg->migrations_dir) == 0 &&
                  snprintf(cache, sizeof cache, "%s/.stallmig/checksums", cfg->dir) < (int)sizeof cache;
    struct scan **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = NULL;
    luaL_setmetatable(L, SCAN_MT);
    if ((*slot = scan_start(dir, cached ? cache : NULL)) == NULL)
        return lerror_raise(L, "runtime", "out of memory scanning %s", dir);
    return 1;
}

/* scan:wait(dir) -> { {name=, checksum=, size=, conventional=}
 *                    | {name=, problem=[, too_large][, same_as]}, ... }
 * every sub-folder in byte-wise order of its name (plain files are skipped). */
static int scan_wait_lua(lua_State *L)
{
    struct scan **slot = luaL_checkudata(L, 1, SCAN_MT);
    const char *dir = luaL_checkstring(L, 2);
    const struct scan_entry *entries;
    size_t count;
    if (*slot == NULL)
        return lerror_raise(L, "usage", "the scan was already released");
    int err = scan_wait(*slot, &entries, &count);
    if (err != 0)
        return raise_io(L, "list the migrations folder", dir, err);
    lua_createtable(L, (int)count, 0);
    for (size_t i = 0; i < count; i++) {
        lua_createtable(L, 0, 3);
        lua_pushstring(L, entries[i].name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, entries[i].problem ? entries[i].problem : entries[i].checksum);
        lua_setfield(L, -2, entries[i].problem ? "problem" : "checksum");
        lua_pushinteger(L, (lua_Integer)entries[i].size);
        lua_setfield(L, -2, "size");
        lua_pushboolean(L, entries[i].conventional);
        lua_setfield(L, -2, "conventional");
        if (entries[i].same_as != NULL) {
            lua_pushstring(L, entries[i].same_as);
            lua_setfield(L, -2, "same_as");
        }
        if (entries[i].too_large) {
            lua_pushboolean(L, 1);
            lua_setfield(L, -2, "too_large");
        }
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int scan_gc(lua_State *L)
{
    struct scan **slot = luaL_checkudata(L, 1, SCAN_MT);
    scan_free(*slot);
    *slot = NULL;
    return 0;
}

struct scan *lapi_files_check_scan(lua_State *L, int idx)
{
    struct scan **slot = luaL_checkudata(L, idx, SCAN_MT);
    if (*slot == NULL)
        lerror_raise(L, "usage", "the scan was already released (migrations.discover "
                     "releases the scan it read)");
    return *slot;
}

struct scan *lapi_files_pass_scan(lua_State *L, int idx, lua_State *P, const char *dir)
{
    struct scan **slot = luaL_testudata(L, idx, SCAN_MT);
    if (slot == NULL || *slot == NULL || strcmp(scan_dir(*slot), dir) != 0)
        return NULL;
    luaL_requiref(P, "stallmig.files", luaopen_stallmig_files, 0);   /* its metatable */
    lua_pop(P, 1);
    struct scan **moved = lua_newuserdatauv(P, sizeof *moved, 0);
    *moved = *slot;
    *slot = NULL;
    luaL_setmetatable(P, SCAN_MT);
    return *moved;
}

/* files.mkdir(path): creates one directory (0755); raises if it exists. */
static int files_mkdir(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    if (mkdir(path, 0755) != 0)
        return raise_io(L, "create the directory", path, errno);
    return 0;
}

/* files.create(path, content): writes a new file (0644); never replaces one. */
static int files_create(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    size_t len;
    const char *content = luaL_checklstring(L, 2, &len);
    FILE *f = NULL;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 || (f = fdopen(fd, "wb")) == NULL) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        return raise_io(L, "create", path, err);
    }
    size_t written = fwrite(content, 1, len, f);
    int err = written != len || ferror(f) ? (errno ? errno : EIO) : 0;
    if (fclose(f) != 0 && err == 0)
        err = errno;
    if (err != 0) {
        unlink(path);
        return raise_io(L, "write", path, err);
    }
    return 0;
}

/* files.remove(path): deletes a file; raises kind io when it cannot. */
static int files_remove(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    if (unlink(path) != 0)
        return raise_io(L, "remove", path, errno);
    return 0;
}

static const luaL_Reg files_functions[] = {
    {"remove", files_remove},
    {"mkdir", files_mkdir},
    {"create", files_create},
    {"scan", files_scan},
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
    if (luaL_newmetatable(L, SCAN_MT)) {
        static const luaL_Reg scan_methods[] = {{"wait", scan_wait_lua}, {"release", scan_gc}, {NULL, NULL}};
        lua_pushcfunction(L, scan_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, scan_gc);
        lua_setfield(L, -2, "__close");
        lua_newtable(L);
        luaL_setfuncs(L, scan_methods, 0);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
    luaL_newlib(L, files_functions);
    return 1;
}
