#!/usr/bin/env python3
"""HTTP-level checks of a running studio (tests/integration/test_studio.sh).

    http_check.py URL SCENARIO [ARGS...]

URL is the one stallrun printed (http://127.0.0.1:PORT/?token=...). Each
scenario asserts and exits non-zero with a message on the first failure.
"""
import html
import http.client
import re
import sys
import threading
import time
import urllib.parse


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


class Studio:
    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.hostport = u.netloc
        self.token = urllib.parse.parse_qs(u.query)["token"][0]
        self.cookie = None
        self.csrf = None

    def request(self, method, path, body=None, headers=None, host=None, cookie=True, timeout=20):
        c = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        h = {"Host": host or self.hostport}
        if cookie and self.cookie:
            h["Cookie"] = self.cookie
        if body is not None:
            h["Content-Type"] = "application/x-www-form-urlencoded"
            body = urllib.parse.urlencode(body)
        h.update(headers or {})
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        text = r.read().decode("utf-8", "replace")
        c.close()
        return r.status, dict(r.getheaders()), text

    def sign_in(self):
        st, h, _ = self.request("GET", "/?token=" + self.token, cookie=False)
        if st != 303 or "Set-Cookie" not in h:
            fail("signing in with the token: %d %s" % (st, h))
        self.cookie = h["Set-Cookie"].split(";")[0]
        st, _, text = self.get("/")
        m = re.search(r'<meta name="csrf" content="([0-9a-f]+)">', text)
        if st != 200 or not m:
            fail("the tables page after signing in: %d" % st)
        self.csrf = m.group(1)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)


def expect(cond, msg):
    if not cond:
        fail(msg)


def security(s):
    st, _, text = s.get("/", cookie=False)
    expect(st == 401 and "token" in text, "no cookie, no token: expected 401, got %d" % st)
    st, _, _ = s.get("/?token=" + "0" * 32, cookie=False)
    expect(st == 403, "a wrong token: expected 403, got %d" % st)
    s.sign_in()
    st, _, _ = s.get("/", host="evil.example:%d" % s.port)
    expect(st == 403, "a DNS name in Host (rebinding): expected 403, got %d" % st)
    st, _, _ = s.get("/", host="127.0.0.1:1")
    expect(st == 403, "another port in Host: expected 403, got %d" % st)
    form = {"schema": "public", "table": "customers", "k1": "1", "v2": "changed"}
    st, _, _ = s.request("POST", "/row/update", body=form)
    expect(st == 403, "a change without the CSRF token: expected 403, got %d" % st)
    st, _, _ = s.request("POST", "/row/update", body=dict(form, csrf="f" * 32))
    expect(st == 403, "a change with a wrong CSRF token: expected 403, got %d" % st)
    st, _, _ = s.request("POST", "/row/update", body=dict(form, csrf=s.csrf),
                         headers={"Origin": "http://evil.example"})
    expect(st == 403, "a change from another origin: expected 403, got %d" % st)
    st, h, _ = s.get("/")
    expect("default-src 'self'" in h.get("Content-Security-Policy", ""), "no CSP header: %s" % h)
    expect(h.get("Referrer-Policy") == "same-origin", "no Referrer-Policy")


def injection(s):
    s.sign_in()
    base = "/rows?schema=public&table=customers"
    evil = ['id"; DROP TABLE public.orders; --', "id) FROM pg_shadow --", "1; SELECT pg_sleep(5)"]
    for e in evil:
        q = urllib.parse.quote(e)
        st, _, text = s.get(base + "&sort=" + q)
        expect(st == 400 and "no column" in text, "sort=%r: expected 400 no column, got %d" % (e, st))
        st, _, text = s.get(base + "&op=eq&v=1&col=" + q)
        expect(st == 400 and "no column" in text, "col=%r: expected 400, got %d" % (e, st))
    st, _, text = s.get(base + "&col=name&op=eq&v=" + urllib.parse.quote("x' OR '1'='1"))
    expect(st == 200 and "open</a>" not in text, "a quote in a value matched rows: %d" % st)
    st, _, text = s.get(base + "&col=name&op=contains&v=" + urllib.parse.quote("%' OR 1=1 --"))
    expect(st == 200 and "open</a>" not in text, "a value in contains matched rows: %d" % st)
    st, _, text = s.get(base + "&col=name&op=bogus&v=1")
    expect(st == 400, "an unknown filter: expected 400, got %d" % st)
    st, _, text = s.get("/rows?schema=public&table=" + urllib.parse.quote('customers"; DROP TABLE x; --'))
    expect(st == 404, "an unknown table: expected 404, got %d" % st)
    st, _, text = s.get(base + "&col=id&op=range&v=5&v2=7")
    expect(text.count('class="open"') == 3, "range 5..7 should show 3 rows")


def edit(s):
    s.sign_in()
    st, _, text = s.get("/row?schema=public&table=customers&k1=2")
    expect(st == 200 and 'id="edit"' in text, "the row page of dev has no edit form: %d" % st)
    form = {"csrf": s.csrf, "schema": "public", "table": "customers", "k1": "2"}
    # v2 is column 2 (name); the others are sent as they are (unchanged)
    # as a browser sends them: the first newline dropped (HTML does), line ends as CRLF
    for i, v in re.findall(r'<textarea name="v(\d+)" rows="1">([^<]*)</textarea>', text):
        v = html.unescape(v)
        form["v" + i] = (v[1:] if v.startswith("\n") else v).replace("\n", "\r\n")
    form["v2"] = "renamed by the studio"
    st, _, text = s.request("POST", "/row/update", body=form)
    expect(st == 200 and "Updated 1 row" in text, "update on dev: %d %s" % (st, text[-500:]))
    expect("UPDATE &quot;public&quot;.&quot;customers&quot; SET &quot;name&quot; = $1" in text,
           "the update's SQL is not shown")
    st, _, text = s.request("POST", "/row/delete", body={"csrf": s.csrf, "schema": "public", "table": "customers", "k1": "9999"})
    expect(st == 409 and "Nothing was changed" in text, "deleting a missing row: %d" % st)


def protected(s, doubt=0):
    s.sign_in()
    st, _, text = s.get("/row?schema=public&table=customers&k1=2")
    expect(st == 200 and 'id="read-only"' in text and 'id="edit"' not in text,
           "prod's row page should be read-only without a form: %d" % st)
    form = {"csrf": s.csrf, "schema": "public", "table": "customers", "k1": "2", "v2": "written on prod"}
    st, _, text = s.request("POST", "/row/update", body=form)
    expect(st == 403 and "read-only" in text, "an update on prod: expected 403 read-only, got %d %s" % (st, text[-400:]))
    st, _, text = s.request("POST", "/row/insert", body={"csrf": s.csrf, "schema": "public", "table": "customers", "v2": "x"})
    expect(st == 403, "an insert on prod: expected 403, got %d" % st)
    st, _, text = s.get("/sneak")
    why = "every write is refused while it is in doubt" if doubt else "studio serves it read-only"
    expect(st == 403 and why in text, "allow_writes while serving: expected 403 %r, got %d %s" % (why, st, text[-400:]))


def secret(s):
    s.sign_in()
    st, _, text = s.get("/secret")
    expect(st == 200, "/secret: %d" % st)
    expect("s3cret-pw" not in text and "***" in text, "a password reached a page: %s" % text[-300:])


def concurrent(s, n, slow):
    """n requests at once, one of them a slow page; all must be answered."""
    s.sign_in()
    results, lock = [], threading.Lock()

    def one(path):
        t0 = time.monotonic()
        try:
            st, _, _ = s.get(path, timeout=30)
        except Exception as e:  # a timeout or a reset is a failure
            st = repr(e)
        with lock:
            results.append((path, st, time.monotonic() - t0))

    paths = ["/rows?schema=public&table=orders&sort=total&col=note&op=contains&v=1"] * (n - 1)
    if slow:
        paths.insert(0, "/slow")
    threads = [threading.Thread(target=one, args=(p,)) for p in paths]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    bad = [r for r in results if r[1] != 200]
    expect(not bad, "%d of %d requests failed: %s" % (len(bad), len(results), bad[:3]))
    lat = sorted(r[2] for r in results)
    print("concurrent: %d requests, wall %.2f s, median %.3f s, max %.3f s" % (len(lat), wall, lat[len(lat) // 2], lat[-1]))


def migrations(s):
    s.sign_in()
    st, _, text = s.get("/migrations")
    expect(st == 200, "/migrations: %d" % st)
    matrix = re.search(r'<div id="matrix">(.*?)</div>', text).group(1)
    expect("<th>dev</th><th>prod</th>" in matrix, "the matrix's environments: %s" % matrix)
    expect(re.search(r'20240102000000_drop_bio.*?pending.*?pending', matrix), "the pending migration in the matrix")
    expect("20240101000000_shop" in text and ">applied<" in text, "the history of the served environment")
    expect("workflows/restore.lua --env dev --backup " in text, "a backup with its restore command")
    st, _, text = s.get("/migration?name=20240102000000_drop_bio")
    expect(st == 200 and "ALTER TABLE customers DROP COLUMN bio" in text, "the migration's SQL: %d" % st)
    expect("data at risk" in text and "120 non-null" in text, "verify's data at risk: %s" % text[-600:])
    st, _, _ = s.get("/migration?name=" + urllib.parse.quote("../../etc/passwd"))
    expect(st == 404, "a migration that is not in the folder: expected 404, got %d" % st)


def timeout(s):
    s.sign_in()
    for path in ["/stuck", "/untimed", "/stuck"]:
        t0 = time.monotonic()
        st, _, text = s.get(path)
        took = time.monotonic() - t0
        if path == "/stuck":
            expect(st == 400 and "statement timeout" in text and took < 5,
                   "%s: expected the statement timeout within 5 s, got %d after %.1f s" % (path, st, took))
    st, _, _ = s.get("/")
    expect(st == 200, "a page after the timeouts: %d" % st)


def big(s, rows):
    s.sign_in()
    t0 = time.monotonic()
    st, _, text = s.get("/rows?schema=public&table=big")
    first = time.monotonic() - t0
    expect(st == 200 and text.count('class="open"') == 50, "first page of big: %d" % st)
    expect("≈" in text and "nothing is counted" in text, "big above exact_count_below should show an estimate")
    sql = re.search(r'<pre id="sql">([^<]*)', text).group(1)
    expect("OFFSET" not in sql.upper() and "count(" not in sql, "paging SQL: %s" % sql)
    nxt = re.search(r'id="next" href="([^"]*)"', text).group(1).replace("&amp;", "&")
    st, _, text = s.get(nxt)
    expect(st == 200 and ">51</span>" in text, "the second page should start at 51")
    print("big: %d rows, first page %.3f s" % (rows, first))


if __name__ == "__main__":
    st = Studio(sys.argv[1])
    name = sys.argv[2]
    args = [int(a) for a in sys.argv[3:]]
    {"security": security, "injection": injection, "edit": edit, "protected": protected,
     "secret": secret, "timeout": timeout, "migrations": migrations, "concurrent": concurrent, "big": big}[name](st, *args)
