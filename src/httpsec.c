/* httpsec.c — the studio's request checks (httpsec.h). */
#include "httpsec.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

static int random_hex(char out[HTTPSEC_TOKEN_LEN + 1])
{
    unsigned char raw[HTTPSEC_TOKEN_LEN / 2];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return -1;
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    return 0;
}

int httpsec_init(struct httpsec *sec, const char *listen)
{
    memset(sec, 0, sizeof *sec);
    snprintf(sec->listen, sizeof sec->listen, "%s", listen);
    return random_hex(sec->token) == 0 && random_hex(sec->csrf) == 0 ? 0 : -1;
}

void httpsec_url(const struct httpsec *sec, char *out, size_t size)
{
    const char *host = sec->listen;
    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0)
        host = "127.0.0.1";
    bool v6 = strchr(host, ':') != NULL;
    snprintf(out, size, "http://%s%s%s:%u/?token=%s", v6 ? "[" : "", host, v6 ? "]" : "",
             (unsigned)sec->port, sec->token);
}

void httpsec_cookie_name(const struct httpsec *sec, char *out, size_t size)
{
    snprintf(out, size, "stallmig_studio_%u", (unsigned)sec->port);
}

bool httpsec_token_eq(const char *token, const char *given, size_t given_len)
{
    size_t n = strlen(token);
    if (given == NULL || given_len != n)
        return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(token[i] ^ given[i]);
    return diff == 0;
}

bool httpsec_host_ok(const struct httpsec *sec, const char *host)
{
    if (host == NULL)
        return false;
    char name[80];
    const char *colon = strrchr(host, ':');
    if (colon == NULL || (host[0] == '[' && colon < strchr(host, ']')))
        return false;                /* the port is always part of it */
    size_t n = (size_t)(colon - host);
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)sec->port);
    if (n == 0 || n >= sizeof name || strcmp(colon + 1, port) != 0)
        return false;
    memcpy(name, host, n);
    name[n] = '\0';
    if (strcasecmp(name, "localhost") == 0)
        return true;
    unsigned char addr[16];
    if (name[0] == '[' && name[n - 1] == ']') {
        name[n - 1] = '\0';
        return inet_pton(AF_INET6, name + 1, addr) == 1;
    }
    return inet_pton(AF_INET, name, addr) == 1;
}

/* The value of cookie `name` in a Cookie header, and its length. */
static const char *cookie_value(const char *header, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (const char *p = header; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
            *len = end ? (size_t)(end - p - nl - 1) : strlen(p + nl + 1);
            return p + nl + 1;
        }
        p = end;
    }
    return NULL;
}

/* The csrf field of a urlencoded form body, and its length. */
static const char *form_csrf(const char *body, size_t *len)
{
    for (const char *p = body; p && *p;) {
        const char *end = strchr(p, '&');
        if (strncmp(p, "csrf=", 5) == 0) {
            *len = end ? (size_t)(end - p - 5) : strlen(p + 5);
            return p + 5;
        }
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

static bool safe_method(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

static void refuse(struct httpsec_verdict *v, int status, const char *text)
{
    v->status = status;
    snprintf(v->text, sizeof v->text, "%s\n", text);
}

static bool origin_ok(const struct httpsec *sec, const char *origin)
{
    if (origin == NULL)
        return true;                 /* not a browser's cross-site request */
    return strncmp(origin, "http://", 7) == 0 && httpsec_host_ok(sec, origin + 7);
}

void httpsec_check(const struct httpsec *sec, const struct httpsec_request *req,
                   struct httpsec_verdict *v)
{
    memset(v, 0, sizeof *v);
    if (!httpsec_host_ok(sec, req->host))
        return refuse(v, 403, "this studio answers only to localhost or an IP address with its "
                      "port in the Host header (a DNS name could be another site's: DNS rebinding)");
    char name[40];
    httpsec_cookie_name(sec, name, sizeof name);
    size_t len = 0;
    const char *given = req->cookie ? cookie_value(req->cookie, name, &len) : NULL;
    bool authed = httpsec_token_eq(sec->token, given, len);
    if (!authed && req->token_arg && safe_method(req->method)) {
        if (!httpsec_token_eq(sec->token, req->token_arg, strlen(req->token_arg)))
            return refuse(v, 403, "wrong token: open the URL stallrun printed when the studio started");
        v->status = 303;             /* the token becomes a cookie; the URL loses it */
        snprintf(v->set_cookie, sizeof v->set_cookie, "%s=%s; Path=/; HttpOnly; SameSite=Strict",
                 name, sec->token);
        snprintf(v->location, sizeof v->location, "%s", req->path);
        snprintf(v->text, sizeof v->text, "signed in\n");
        return;
    }
    if (!authed)
        return refuse(v, 401, "this studio needs its token: open the URL stallrun printed when it "
                      "started (http://.../?token=...)");
    if (safe_method(req->method))
        return;
    const char *csrf = req->csrf_header;
    len = csrf ? strlen(csrf) : 0;
    if (csrf == NULL && req->body)
        csrf = form_csrf(req->body, &len);
    if (!httpsec_token_eq(sec->csrf, csrf, len) || !origin_ok(sec, req->origin))
        return refuse(v, 403, "a change needs the page's CSRF token and an Origin of this studio: "
                      "reload the page and try again");
}
