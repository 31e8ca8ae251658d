/* fuzz_pg.c — pg.c's plain helpers on arbitrary bytes. Invariants: a URL
 * libpq cannot parse is refused without a crash, and one it can parse has
 * its options copied whole or cut at the buffer; a failure is always told
 * in one of our own sentences, whatever libpq's text held (nothing of it is
 * echoed); the session's options keep the URL's own and add each setting
 * the URL did not name. */
#include "msg.h"
#include "pg.h"

#undef NDEBUG                        /* the invariants are the point */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libpq texts that pick each of our sentences, and one that picks none. */
static const char *const triggers[] = {
    "password authentication failed", "no password supplied", "database \" does not exist",
    "role \" does not exist", "Connection refused", "could not translate host name",
    "timeout expired", "starting up", "too many connections for role",
    "too many connections for database", "not currently accepting connections",
    "too many connections", "no pg_hba.conf entry", "",
};

static bool one_of_ours(const char *out)
{
    for (size_t i = 0; i < sizeof triggers / sizeof triggers[0]; i++) {
        char ours[400];
        pg_describe_text(triggers[i], "h", "5", "d", "u", ours, sizeof ours);
        if (strcmp(out, ours) == 0)
            return true;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    char options[256] = "";
    if (pg_inspect_url(text, options, sizeof options) == 0)
        assert(memchr(options, '\0', sizeof options) != NULL);
    msg_clear_secrets();

    char out[400];
    pg_describe_text(text, "h", "5", "d", "u", out, sizeof out);
    assert(one_of_ours(out));

    char session[1400];
    pg_session_options(text, session, sizeof session);
    size_t kept = strlen(text) < sizeof session - 1 ? strlen(text) : sizeof session - 1;
    assert(strncmp(session, text, kept) == 0);
    if (strlen(text) + 200 < sizeof session)
        assert(strstr(session, "client_connection_check_interval") != NULL &&
               strstr(session, "tcp_user_timeout") != NULL);
    free(text);
    return 0;
}
