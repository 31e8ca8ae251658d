/* httpsec.h — the studio's request checks, in plain C (no Lua, no
 * libmicrohttpd: unit-tested alone): the random token and its cookie, the
 * CSRF token, the Host header (DNS rebinding), the Origin of a change. */
#ifndef STALLMIG_HTTPSEC_H
#define STALLMIG_HTTPSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTPSEC_TOKEN_LEN 32         /* hex characters of a token (128 bits) */

struct httpsec {
    char token[HTTPSEC_TOKEN_LEN + 1];   /* printed with the URL; then a cookie */
    char csrf[HTTPSEC_TOKEN_LEN + 1];    /* in pages; sent back with every change */
    char listen[64];                     /* the address served */
    uint16_t port;
};

/* What lapi_http.c read from the request (NULL: absent). */
struct httpsec_request {
    const char *method, *path;
    const char *host, *origin, *cookie;
    const char *token_arg;               /* ?token= */
    const char *csrf_header;             /* X-CSRF-Token */
    const char *body;                    /* form body (csrf=...), or NULL */
};

struct httpsec_verdict {
    int status;                          /* 0: let the page answer; else answer this */
    char text[300];
    char set_cookie[160];                /* "" or a Set-Cookie value */
    char location[600];                  /* "" or a redirect target */
};

/* New random tokens for a server on listen. 0, or -1 (no randomness). */
int httpsec_init(struct httpsec *sec, const char *listen);

/* The URL to print: http://HOST:PORT/?token=... (IPv6 in brackets; an
 * unspecified address is shown as 127.0.0.1). */
void httpsec_url(const struct httpsec *sec, char *out, size_t size);

/* The cookie's name (one per port, so two studios do not clobber each other). */
void httpsec_cookie_name(const struct httpsec *sec, char *out, size_t size);

/* Decides on one request. */
void httpsec_check(const struct httpsec *sec, const struct httpsec_request *req,
                   struct httpsec_verdict *v);

/* Whether host ("name:port") names this server: localhost or an IP
 * literal (never a DNS name another site could point here), on its port. */
bool httpsec_host_ok(const struct httpsec *sec, const char *host);

/* Constant-time comparison of a token with what a request carried. */
bool httpsec_token_eq(const char *token, const char *given, size_t given_len);

#endif
