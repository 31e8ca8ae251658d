/* embed_lua OUT.c ROOT FILE... — compiles each Lua FILE (a path relative
 * to ROOT) and writes OUT.c: the table of compiled chunks src/lchunks.h
 * declares, each with its text's length and hash. Run by make when a Lua
 * file changes; a file that does not compile fails the build. */
#include "lchunks.h"
#include "readfile.h"

#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bytes {
    unsigned char *data;
    size_t size;
};

static int collect(lua_State *L, const void *p, size_t n, void *ud)
{
    (void)L;
    struct bytes *b = ud;
    unsigned char *more = realloc(b->data, b->size + n);
    if (more == NULL)
        return 1;
    memcpy(more + b->size, p, n);
    b->data = more;
    b->size += n;
    return 0;
}

/* Writes chunk number i of file rel; 0, or 1 with a message on stderr. */
static int embed(FILE *out, lua_State *L, const char *root, const char *rel, int i)
{
    char path[4096], name[4096];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    snprintf(name, sizeof name, "@%s", rel);
    size_t size = 0;
    char *text = readfile(path, 0, (size_t)64 << 20, &size);
    if (text == NULL) {
        fprintf(stderr, "embed_lua: cannot read %s: %s\n", path, strerror(errno));
        return 1;
    }
    size_t skip = size > 0 && text[0] == '#' ? strcspn(text, "\n") : 0;   /* as lchunks.c */
    struct bytes code = {NULL, 0};
    int rc = luaL_loadbufferx(L, text + skip, size - skip, name, "t");
    if (rc == LUA_OK && (lua_dump(L, collect, &code, 0) != 0 || code.data == NULL))
        rc = LUA_ERRMEM;
    if (rc != LUA_OK) {
        fprintf(stderr, "embed_lua: %s\n", rc == LUA_ERRMEM ? "out of memory" : lua_tostring(L, -1));
        free(text);
        free(code.data);
        return 1;
    }
    lua_pop(L, 1);
    fprintf(out, "static const unsigned char chunk_%d[] = {", i);
    for (size_t k = 0; k < code.size; k++)
        fprintf(out, "%s%u,", k % 24 == 0 ? "\n" : "", code.data[k]);
    fprintf(out, "\n};\n#define CHUNK_%d {\"%s\", UINT64_C(%llu), %zu, chunk_%d, sizeof chunk_%d}\n", i, rel,
            (unsigned long long)lchunk_hash(text, size), size, i, i);
    free(text);
    free(code.data);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: embed_lua OUT.c ROOT FILE...\n");
        return 2;
    }
    FILE *out = fopen(argv[1], "w");
    lua_State *L = luaL_newstate();
    if (out == NULL || L == NULL) {
        fprintf(stderr, "embed_lua: cannot write %s\n", argv[1]);
        return 1;
    }
    fprintf(out, "/* written by tools/embed_lua.c: do not edit */\n#include \"lchunks.h\"\n\n");
    int failed = 0;
    for (int i = 3; i < argc && !failed; i++)
        failed = embed(out, L, argv[2], argv[i], i - 3);
    fprintf(out, "\nconst struct lchunk lchunks[] = {\n");
    for (int i = 3; i < argc && !failed; i++)
        fprintf(out, "    CHUNK_%d,\n", i - 3);
    fprintf(out, "    {NULL, 0, 0, NULL, 0},\n};\n");
    lua_close(L);
    failed |= fclose(out) != 0;
    if (failed)
        remove(argv[1]);
    return failed;
}
