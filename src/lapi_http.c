/* lapi_http.c — stallmig.http: a local HTTP server (libmicrohttpd) whose
 * pages are a Lua function (the studio, docs/studio.md).
 *
 * Threading: none. libmicrohttpd runs in external-polling mode and
 * http.serve drives it from the workflow's own thread (MHD_run_wait), so
 * the one Lua state is only ever entered from the thread that owns it: no
 * lock, and SIGINT/SIGTERM end the loop like any other call. Requests are
 * answered one after the other; each is bounded by the statement_timeout
 * the studio sets, so a slow page delays the others by at most that.
 *
 * What the host enforces here, whatever the Lua side does (httpsec.c):
 * the address it binds (127.0.0.1 unless the workflow passes another), a
 * random token on every request (then a cookie), a CSRF token on every
 * request that is not GET/HEAD, the Host header, security headers, and
 * redaction of every response body (no known password ever leaves). */
#include "httpsec.h"
#include "lapi.h"
#include "lconn.h"
#include "lerror.h"
#include "lsignal.h"
#include "msg.h"
#include "run.h"

#include <arpa/inet.h>
#include <lauxlib.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERVER_MT "stallmig.http_server"
#define MAX_BODY (1024 * 1024)

struct upload {                      /* one request's body, as it arrives */
    char *data;
    size_t len;
    bool too_big;
};

struct server {
    struct MHD_Daemon *daemon;
    lua_State *L;
    int handler;                     /* registry reference of the page function */
    struct lconn *conn;              /* the pages' connection, or NULL */
    char timeout_sql[96];            /* SET statement_timeout = ..., before every request */
    struct httpsec sec;
};

/* ---- the daemon handle ------------------------------------------------------ */

static int server_close(lua_State *L)
{
    struct server *s = luaL_checkudata(L, 1, SERVER_MT);
    if (s->daemon) {
        MHD_stop_daemon(s->daemon);
        s->daemon = NULL;
    }
    if (s->L && s->handler) {
        luaL_unref(s->L, LUA_REGISTRYINDEX, s->handler);
        s->handler = 0;
    }
    if (lconn_run())
        lconn_run()->serving = false;
    return 0;
}

/* ---- answering -------------------------------------------------------------- */

/* Every answer: no caching, no framing, no sniffing, scripts and styles
 * from the studio itself only, no Referer to another site. */
static void add_headers(struct MHD_Response *r, const char *set_cookie, const char *location)
{
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "same-origin");   /* no-referrer makes a form's Origin "null" */
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                            "form-action 'self'");
    if (set_cookie && set_cookie[0])
        MHD_add_response_header(r, "Set-Cookie", set_cookie);
    if (location && location[0])
        MHD_add_response_header(r, "Location", location);
}

static enum MHD_Result send_text(struct MHD_Connection *mc, unsigned status, const char *type,
                                 const char *body, size_t len, const char *set_cookie,
                                 const char *location)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    add_headers(r, set_cookie, location);
    enum MHD_Result ok = MHD_queue_response(mc, status, r);
    MHD_destroy_response(r);
    return ok;
}

/* What the page function returned, copied out of Lua (redacted). */
struct answer {
    int status;
    char type[128];
    char location[1024];
    char *body;                      /* malloc'd, redacted */
};

static void push_args(lua_State *L, struct MHD_Connection *mc);

/* Before each request, on the pages' connection: a transaction a failed
 * page left open is rolled back, and the statement timeout set again (the
 * host's own statement, so it also runs on a read-only connection, and a
 * page that changed it does not keep it for the next). */
static void reset_connection(struct server *s)
{
    if (s->conn == NULL || s->conn->pg == NULL)
        return;
    if (PQtransactionStatus(s->conn->pg) != PQTRANS_IDLE)
        PQclear(PQexec(s->conn->pg, "ROLLBACK"));
    PQclear(PQexec(s->conn->pg, s->timeout_sql));
}

/* Runs under lua_pcall: builds the request table, calls the page function
 * and copies its answer. Upvalue-free: the arguments are light userdata. */
static int dispatch(lua_State *L)
{
    struct server *s = lua_touserdata(L, 1);
    struct MHD_Connection *mc = lua_touserdata(L, 2);
    const char *path = lua_touserdata(L, 3), *method = lua_touserdata(L, 4);
    struct upload *up = lua_touserdata(L, 5);
    struct answer *a = lua_touserdata(L, 6);
    lua_settop(L, 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->handler);
    lua_createtable(L, 0, 6);
    lua_pushstring(L, method);
    lua_setfield(L, -2, "method");
    lua_pushstring(L, path);
    lua_setfield(L, -2, "path");
    lua_pushlstring(L, up->data ? up->data : "", up->len);
    lua_setfield(L, -2, "body");
    lua_pushstring(L, s->sec.csrf);
    lua_setfield(L, -2, "csrf");
    push_args(L, mc);
    lua_setfield(L, -2, "args");
    lua_call(L, 1, 1);
    luaL_checktype(L, 1, LUA_TTABLE);
    a->status = lua_getfield(L, 1, "status") == LUA_TNUMBER ? (int)lua_tointeger(L, -1) : 200;
    if (a->status < 200 || a->status > 599)
        luaL_error(L, "a page answered status %d: give 200 to 599", a->status);
    lua_getfield(L, 1, "type");
    snprintf(a->type, sizeof a->type, "%s", lua_isstring(L, -1) ? lua_tostring(L, -1)
                                                                 : "text/html; charset=utf-8");
    lua_getfield(L, 1, "location");
    snprintf(a->location, sizeof a->location, "%s", lua_isstring(L, -1) ? lua_tostring(L, -1) : "");
    lua_getfield(L, 1, "body");
    a->body = msg_redact(lua_isstring(L, -1) ? lua_tostring(L, -1) : "");
    return 0;
}

/* The query string's arguments, collected by libmicrohttpd's callback
 * into C first (nothing there may raise through libmicrohttpd's frames),
 * then pushed; the token stays out of the page's sight. */
#define MAX_ARGS 64
struct args {
    const char *key[MAX_ARGS], *value[MAX_ARGS];
    int n;
};

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    struct args *a = cls;
    if (key && strcmp(key, "token") != 0 && a->n < MAX_ARGS) {
        a->key[a->n] = key;
        a->value[a->n++] = value ? value : "";
    }
    return MHD_YES;
}

static void push_args(lua_State *L, struct MHD_Connection *mc)
{
    struct args a = {.n = 0};
    MHD_get_connection_values(mc, MHD_GET_ARGUMENT_KIND, add_arg, &a);
    lua_createtable(L, 0, a.n);
    for (int i = 0; i < a.n; i++) {
        lua_pushstring(L, a.value[i]);
        lua_setfield(L, -2, a.key[i]);
    }
}

/* Calls the page function; an error becomes a 500 whose text is the
 * error's message (redacted), also printed on stderr. */
static enum MHD_Result run_page(struct server *s, struct MHD_Connection *mc, const char *path,
                                const char *method, struct upload *up)
{
    lua_State *L = s->L;
    int top = lua_gettop(L);
    reset_connection(s);
    struct answer a = {0};
    lua_pushcfunction(L, dispatch);
    lua_pushlightuserdata(L, s);
    lua_pushlightuserdata(L, mc);
    lua_pushlightuserdata(L, (void *)path);
    lua_pushlightuserdata(L, (void *)method);
    lua_pushlightuserdata(L, up);
    lua_pushlightuserdata(L, &a);
    enum MHD_Result ok;
    if (lua_pcall(L, 6, 0, 0) != LUA_OK) {
        int err = lua_gettop(L);
        const char *why = NULL;
        if (lua_istable(L, err) && lua_getfield(L, err, "message") == LUA_TSTRING)
            why = lua_tostring(L, -1);
        else if (lua_isstring(L, err))
            why = lua_tostring(L, err);
        char *safe = msg_redact(why ? why : "error");
        msg_error("studio: %s %s: %s", method, path, safe);
        char page[4200];
        int n = snprintf(page, sizeof page, "the page failed: %.4000s\n", safe);
        free(safe);
        ok = send_text(mc, 500, "text/plain; charset=utf-8", page, (size_t)n, NULL, NULL);
    } else {
        ok = send_text(mc, (unsigned)a.status, a.type, a.body, strlen(a.body), NULL, a.location);
    }
    free(a.body);
    lua_settop(L, top);
    return ok;
}

/* ---- a request ---------------------------------------------------------------- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **req_cls)
{
    (void)version;
    struct server *s = cls;
    struct upload *up = *req_cls;
    if (up == NULL) {                /* first call: headers only */
        if ((up = calloc(1, sizeof *up)) == NULL)
            return MHD_NO;
        *req_cls = up;
        return MHD_YES;
    }
    if (*data_size > 0) {            /* a piece of the body */
        if (up->len + *data_size > MAX_BODY) {
            up->too_big = true;
        } else {
            char *more = realloc(up->data, up->len + *data_size + 1);
            if (more == NULL)
                return MHD_NO;
            memcpy(more + up->len, data, *data_size);
            up->data = more;
            up->len += *data_size;
            up->data[up->len] = '\0';
        }
        *data_size = 0;
        return MHD_YES;
    }
    if (up->too_big)
        return send_text(mc, 413, "text/plain", "request body over 1 MiB\n", 24, NULL, NULL);
    struct httpsec_request req = {
        .method = method, .path = url, .body = up->data,
        .host = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Host"),
        .origin = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Origin"),
        .cookie = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Cookie"),
        .csrf_header = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "X-CSRF-Token"),
        .token_arg = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "token"),
    };
    struct httpsec_verdict v;
    httpsec_check(&s->sec, &req, &v);
    if (v.status != 0)
        return send_text(mc, (unsigned)v.status, "text/plain; charset=utf-8", v.text,
                         strlen(v.text), v.set_cookie, v.location);
    return run_page(s, mc, url, method, up);
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **req_cls,
                         enum MHD_RequestTerminationCode code)
{
    (void)cls, (void)mc, (void)code;
    struct upload *up = *req_cls;
    if (up) {
        free(up->data);
        free(up);
        *req_cls = NULL;
    }
}

/* ---- http.serve ----------------------------------------------------------------- */

static struct MHD_Daemon *start(lua_State *L, struct server *s, const char *addr, int port)
{
    struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
    const struct sockaddr *sa = (const struct sockaddr *)&v4;
    unsigned flags = MHD_USE_ERROR_LOG | MHD_USE_EPOLL;   /* external polling: epoll, no fd limit */
    if (inet_pton(AF_INET, addr, &v4.sin_addr) != 1) {
        if (inet_pton(AF_INET6, addr, &v6.sin6_addr) != 1)
            lerror_raise(L, "usage", "--listen %s is not an IP address", addr);
        sa = (const struct sockaddr *)&v6;
        flags |= MHD_USE_IPv6;
    }
    return MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, s,
                            MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_END);
}

/* http.serve{handler = function(req) -> {status, type, body, location},
 *            listen = "127.0.0.1", port = 0, ready = function(url, port),
 *            conn = conn, statement_timeout = 5000 (ms, set on conn before
 *            every request)}
 * Serves until SIGINT/SIGTERM (raised as "interrupted"). */
static int http_serve(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    lua_getfield(L, 1, "handler");   /* 2 */
    luaL_argexpected(L, lua_isfunction(L, 2), 1, "a table with handler = function(req)");
    lua_getfield(L, 1, "ready");     /* 3 */
    lua_getfield(L, 1, "listen");    /* 4 */
    const char *addr = luaL_optstring(L, 4, "127.0.0.1");
    lua_getfield(L, 1, "port");      /* 5 */
    lua_Integer port = luaL_optinteger(L, 5, 0);
    lua_getfield(L, 1, "conn");      /* 6 */
    struct lconn *conn = lua_isnil(L, 6) ? NULL : lconn_check(L, 6);
    lua_getfield(L, 1, "statement_timeout");   /* 7 */
    lua_Integer timeout_ms = luaL_optinteger(L, 7, 5000);
    if (timeout_ms <= 0 || timeout_ms > 3600000)
        return lerror_raise(L, "usage", "statement_timeout %lld ms: give 1 to 3600000 (an hour)",
                            (long long)timeout_ms);
    if (port < 0 || port > 65535)
        return lerror_raise(L, "usage", "--port %d is not a TCP port (0-65535)", (int)port);
    struct server *s = lua_newuserdatauv(L, sizeof *s, 1);   /* 8 */
    memset(s, 0, sizeof *s);
    luaL_setmetatable(L, SERVER_MT);
    lua_toclose(L, 8);
    lua_pushvalue(L, 6);
    lua_setiuservalue(L, 8, 1);      /* the server keeps its connection alive */
    s->conn = conn;
    snprintf(s->timeout_sql, sizeof s->timeout_sql, "SET statement_timeout = %lld", (long long)timeout_ms);
    s->L = L;
    lua_pushvalue(L, 2);
    s->handler = luaL_ref(L, LUA_REGISTRYINDEX);
    if (httpsec_init(&s->sec, addr) != 0)
        return lerror_raise(L, "failed", "cannot make the studio's random token");
    if ((s->daemon = start(L, s, addr, (int)port)) == NULL)
        return lerror_raise(L, "failed", "cannot listen on %s port %d (in use, or not an address "
                            "of this machine)", addr, (int)port);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->sec.port = info ? info->port : (uint16_t)port;
    if (lconn_run())
        lconn_run()->serving = true;
    if (lua_isfunction(L, 3)) {
        char url[300];
        httpsec_url(&s->sec, url, sizeof url);
        lua_pushvalue(L, 3);
        lua_pushstring(L, url);
        lua_pushinteger(L, s->sec.port);
        lua_call(L, 2, 0);           /* an error here closes the daemon through __close/__gc */
    }
    while (!lsignal_interrupted())
        MHD_run_wait(s->daemon, 500);
    server_close(L);
    return lsignal_raise(L, " while the studio was serving");
}

static const luaL_Reg http_functions[] = {
    {"serve", http_serve},
    {NULL, NULL},
};

int luaopen_stallmig_http(lua_State *L)
{
    luaL_newmetatable(L, SERVER_MT);
    lua_pushcfunction(L, server_close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, server_close);
    lua_setfield(L, -2, "__close");
    lua_pop(L, 1);
    luaL_newlib(L, http_functions);
    return 1;
}
