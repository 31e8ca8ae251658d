# Reports (docs/reports.md): verify --format html|markdown [--output FILE]
# and status --env all --format html, rendered from the same document as the
# text and --json forms; self-contained, escaped, secrets redacted.

# check_self_contained FILE — python3's html.parser over the page: no
# <script>, no event handler, no src/href/action/url()/@import that points
# outside the document (only "#fragment" links), one <html>.
check_self_contained() {
  python3 - "$1" "$CASE_TMP/selfcheck" <<'PY' || fail "$1 is not self-contained: $(cat "$CASE_TMP/selfcheck")"
import re, sys
from html.parser import HTMLParser
problems = []
class Check(HTMLParser):
    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed", "link", "img", "base", "form"):
            problems.append("<%s>" % tag)
        for name, value in attrs:
            v = (value or "").strip()
            if name.startswith("on"):
                problems.append("%s=%r" % (name, v))
            if name in ("src", "href", "action", "srcset", "poster", "data") and not v.startswith("#"):
                problems.append("%s=%r" % (name, v))
            if "url(" in v.lower():
                problems.append("url() in %s" % name)
    def handle_data(self, data):
        if self.lasttag == "style" and re.search(r"url\(|@import", data, re.I):
            problems.append("url() or @import in <style>")
text = open(sys.argv[1], encoding="utf-8").read()
Check().feed(text)
if not text.startswith("<!DOCTYPE html>"):
    problems.append("no doctype")
open(sys.argv[2], "w").write("\n".join(problems))
sys.exit(1 if problems else 0)
PY
}

# The example project's history on dev, the last two migrations pending.
example_pending() {
  new_project
  cp -r "$REPO"/migrations/. "$PROJECT/migrations/"
  mkdir -p "$CASE_TMP/later"
  mv "$PROJECT"/migrations/20240311152000_add_user_profile_fields "$PROJECT"/migrations/20240402094500_index_listings_title "$CASE_TMP/later/"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  mv "$CASE_TMP"/later/* "$PROJECT/migrations/"
  printf 'DROP INDEX CONCURRENTLY "listings_title_idx"; -- <undo>\n' \
    >"$PROJECT/migrations/20240402094500_index_listings_title/down.sql"
}

test_report_verify_html_on_the_example_project() {
  example_pending
  run_stallrun workflows/verify.lua --env dev --rehearse --format html --output report.html
  assert_exit 0
  assert_out_contains "Verdict: PASS: 0 error(s)"
  assert_out_contains "(report written to report.html)"
  local page="$PROJECT/report.html"
  check_self_contained "$page"
  # the verdict comes first, before the first migration's section
  python3 - "$page" <<'PY' || fail "layout of the page: $(cat "$page" | head -c 3000)"
import sys
t = open(sys.argv[1]).read()
v, m = t.index('class="verdict pass"'), t.index('<section class="migration"')
assert v < m, "verdict after the migrations"
for needle in ("20240311152000_add_user_profile_fields", "20240402094500_index_listings_title",
               "Findings", "Data at risk", "Statements and their locks", "Rehearsal", "Rollback plan",
               "<code>ACCESS EXCLUSIVE</code> on users", "every query on the table waits, reads included",
               "<code>SHARE UPDATE EXCLUSIVE</code> on listings", "rehearsed on dev:",
               "PostgreSQL lock modes", "Content-Security-Policy",
               "down.sql present (migrations/20240402094500_index_listings_title/down.sql)",
               "<pre><code>DROP INDEX CONCURRENTLY &quot;listings_title_idx&quot;; -- &lt;undo&gt;"):
    assert needle in t, needle
PY
  assert_eq "" "$(ls -A "$PROJECT" | grep -F '.tmp-' || true)" "temporary files left behind"
  # the same document as --json: the statements' locks are in it
  run_stallrun workflows/verify.lua --env dev --json
  assert_eq "ACCESS EXCLUSIVE" "$(json_get "['migrations'][0]['statements'][0]['locks'][0]['mode']")"
}

test_report_verify_markdown_collapses_clean_files() {
  new_project
  add_migration 20240101000000_people $'CREATE TABLE people (id int PRIMARY KEY, nickname text);\n'
  run_stallrun workflows/deploy.lua --env dev
  psql_q "INSERT INTO people VALUES (1, 'al'), (2, NULL)" >/dev/null
  add_migration 20240102000000_pets $'CREATE TABLE pets (id int PRIMARY KEY);\n'
  add_migration 20240103000000_drop_nickname $'ALTER TABLE people DROP COLUMN nickname;\n'
  run_stallrun workflows/verify.lua --env dev --format markdown
  assert_exit 1                       # an error finding: the same exit status as the text form
  assert_out_contains "## ❌ stallmig verify: FAIL on dev"
  assert_out_contains "| 20240103000000\\_drop\\_nickname | 1 | 1 | ACCESS EXCLUSIVE | not rehearsed | none |"
  assert_out_contains "- data at risk: DROP COLUMN public.people.nickname (line 1): the column contains 1 non-null value(s)"
  assert_out_contains "  - safe recipe: "
  # the clean one only inside <details>
  python3 - "$CASE_TMP/out" <<'PY' || fail "clean file not collapsed: $OUT"
import sys
t = open(sys.argv[1]).read()
d = t.index("<details><summary>1 clean migration(s)</summary>")
e = t.index("</details>", d)
assert "20240102000000\\_pets (no down.sql)" in t[d:e]
assert "pets" not in t[:d]
PY
  run_stallrun workflows/verify.lua --env dev
  assert_exit 1
  # nothing to look at: every file collapsed, exit 0
  rm -r "$PROJECT/migrations/20240103000000_drop_nickname"
  run_stallrun workflows/verify.lua --env dev --format markdown
  assert_exit 0
  assert_out_contains "<details><summary>1 clean migration(s)</summary>"
  [[ "$OUT" != *"| migration |"* ]] || fail "a table for clean files: $OUT"
}

# A migration name and SQL made to break out of the page, and a password in
# a URL in the SQL: inert and redacted in every format.
test_report_hostile_names_are_inert_and_secrets_redacted() {
  new_project
  local evil='20240101000000_x<img src=x onerror=alert(1)>'
  add_migration "$evil" $'SELECT \'</pre></code><script>alert(2)</script>\', \'postgres://app:hunter2secret@db.example.com/prod\';\nCREATE TABLE "<b>bold</b>" (id int);\n'
  run_stallrun workflows/verify.lua --env dev --format html --output evil.html
  assert_exit 0
  check_self_contained "$PROJECT/evil.html"
  ! grep -qiE '<script|<img|<b>' "$PROJECT/evil.html" || fail "markup from the project came out live: $(grep -iE '<script|<img|<b>' "$PROJECT/evil.html")"
  grep -qF '20240101000000_x&lt;img src=x onerror=alert(1)&gt;' "$PROJECT/evil.html" || fail "the name is not shown escaped"
  grep -qF '&lt;/pre&gt;&lt;/code&gt;&lt;script&gt;alert(2)&lt;/script&gt;' "$PROJECT/evil.html" || fail "the SQL is not shown escaped"
  ! grep -q hunter2secret "$PROJECT/evil.html" || fail "the password reached the HTML"
  grep -qF 'postgres://app:***@db.example.com' "$PROJECT/evil.html" || fail "the URL is not shown redacted"
  run_stallrun workflows/verify.lua --env dev --format markdown
  assert_exit 0
  ! grep -qiE '<img|<script|<b>' "$CASE_TMP/out" || fail "markup in the markdown: $OUT"
  assert_out_contains '20240101000000\_x&lt;img src=x onerror=alert(1)&gt;'
  assert_not_contains hunter2secret
}

test_report_output_fails_clearly_and_writes_all_or_nothing() {
  new_project
  add_migration 20240101000000_a $'CREATE TABLE a (id int);\n'
  touch "$CASE_TMP/a-file"
  run_stallrun workflows/verify.lua --env dev --format html --output "$CASE_TMP/a-file/report.html"
  assert_exit 2
  assert_err_contains "--output $CASE_TMP/a-file/report.html: cannot create"
  assert_err_contains "hint: write the report into a folder that exists"
  run_stallrun workflows/verify.lua --env dev --format html --output "$CASE_TMP/no-such-dir/report.html"
  assert_exit 2
  [ ! -e "$CASE_TMP/no-such-dir" ] || fail "a folder was made"
  run_stallrun workflows/verify.lua --env dev --format markdown --output "$CASE_TMP"
  assert_exit 2
  assert_err_contains "is a folder, not a file"
  # an existing report is replaced whole; no temporary file is left
  mkdir "$CASE_TMP/reports" && echo old >"$CASE_TMP/reports/r.md"
  run_stallrun workflows/verify.lua --env dev --format markdown --output "$CASE_TMP/reports/r.md"
  assert_exit 0
  grep -q "stallmig verify: PASS on dev" "$CASE_TMP/reports/r.md" || fail "report not replaced: $(cat "$CASE_TMP/reports/r.md")"
  assert_eq "r.md" "$(ls -A "$CASE_TMP/reports")"
  # usage errors: exit 2, nothing written
  run_stallrun workflows/verify.lua --env dev --format pdf
  assert_exit 2
  assert_err_contains "--format pdf: expected text, github, html or markdown"
  run_stallrun workflows/verify.lua --env dev --output "$CASE_TMP/reports/x.html"
  assert_exit 2
  assert_err_contains "--output writes the html or markdown report"
  run_stallrun workflows/verify.lua --env dev --format html --json
  assert_exit 2
  run_stallrun workflows/status.lua --env dev --format html
  assert_exit 2
  assert_err_contains "status writes --format html [--output FILE] for --env all only"
  run_stallrun workflows/status.lua --env all --output "$CASE_TMP/reports/s.html"
  assert_exit 2
  assert_eq "r.md" "$(ls -A "$CASE_TMP/reports")"
}

test_report_status_all_html_matrix_and_timeline() {
  new_project
  local staging prod
  staging=$(new_db staging)
  prod=$(new_db prod)
  printf '\n[env.staging]\nurl = %s\nprotected = false\n[env.prod]\nurl = %s\nprotected = false\npromote_from = staging\n[env.broken]\nurl = postgresql://deployer:Sup3rSecretPw@127.0.0.1:1/x\n' \
    "$staging" "$prod" >>"$PROJECT/stallmig.ini"
  add_migration 20240101000000_a $'CREATE TABLE a (id int);\n'
  run_stallrun workflows/deploy.lua --env staging
  assert_exit 0
  run_stallrun workflows/deploy.lua --env prod
  assert_exit 0
  add_migration 20240102000000_b $'CREATE TABLE b (id int);\n'
  run_stallrun workflows/deploy.lua --env staging
  assert_exit 0
  run_stallrun workflows/status.lua --env all --format html --output status.html
  assert_exit 1
  assert_out_contains "not in sync (report written to status.html)"
  local page="$PROJECT/status.html"
  check_self_contained "$page"
  ! grep -q Sup3rSecretPw "$page" || fail "the password reached the HTML"
  python3 - "$page" <<'PY' || fail "status page: $(head -c 4000 "$page")"
import sys
t = open(sys.argv[1]).read()
for needle in ("Environment matrix", "Promotion timeline", "prod (from staging)",
               "waiting (applied in staging)", "after staging", "broken: unreachable",
               'class="st-applied">applied', 'class="st-pending">pending', "Not in sync"):
    assert needle in t, needle
assert t.index("20240102000000_b", t.index("Promotion timeline")) < t.index("20240101000000_a", t.index("Promotion timeline")), "timeline not newest first"
PY
  run_stallrun workflows/status.lua --env all --format html
  assert_exit 1
  assert_out_contains "<!DOCTYPE html>"
}

# With Debian's chromium installed (the studio's browser harness installs
# it; skipped without): the page opens with no network (a dead proxy) and
# nothing on the console, and its DOM holds the verdict.
test_report_html_opens_in_headless_chromium() {
  example_pending
  run_stallrun workflows/verify.lua --env dev --format html --output report.html
  assert_exit 0
  # open.js (the studio's harness): network off, exit 1 on any console error,
  # a blocked load or a CSP violation; the screenshot stays in $SHOTS
  rm -rf "$SHOTS" && mkdir -p "$SHOTS"
  node "$REPO/tests/browser/open.js" "file://$PROJECT/report.html" "$SHOTS/verify.png" >"$CASE_TMP/open.out" 2>&1 ||
    fail "the report did not open cleanly: $(cat "$CASE_TMP/open.out")"
  [ -s "$SHOTS/verify.png" ] || fail "no screenshot of the report"
  local dom
  dom=$(timeout 60 /usr/bin/chromium --headless --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$CASE_TMP/chromium" --proxy-server=127.0.0.1:9 \
    --dump-dom "file://$PROJECT/report.html" 2>"$CASE_TMP/chromium.err") ||
    fail "chromium failed: $(tail -5 "$CASE_TMP/chromium.err")"
  grep -q 'class="verdict pass"' <<<"$dom" || fail "the DOM has no verdict: ${dom:0:2000}"
}

# The lock table (docs/reports.md): what locks.of says a statement takes.
test_report_locks_follow_postgresql_lock_levels() {
  new_project
  cat >"$PROJECT/locks.lua" <<'LUA'
local ctx = ...
local sql = require("stallmig.sql")
local tree = require("stallmig.sqltree")
local locks = require("stallmig.locks")
for _, text in ipairs(ctx.args) do
  local kind, node = tree.node(sql.parse(text).stmts[1].stmt)
  local out = {}
  for _, l in ipairs(locks.of(kind, node)) do out[#out + 1] = l.mode .. " " .. tree.qualified(l.schema, l.table) end
  print(text .. " => " .. (#out > 0 and table.concat(out, ", ") or "none"))
end
print("SHARE blocks: " .. locks.blocks("SHARE").summary)
LUA
  run_stallrun locks.lua --env dev "SELECT 1" "CREATE TABLE t (id int)" "ALTER TABLE s.t ADD COLUMN x int" \
    "ALTER TABLE t VALIDATE CONSTRAINT c" "ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (x) REFERENCES u (id) NOT VALID" \
    "CREATE INDEX i ON t (x)" "CREATE INDEX CONCURRENTLY i ON t (x)" "DROP INDEX CONCURRENTLY i" \
    "UPDATE t SET x = 1" "LOCK TABLE t IN SHARE ROW EXCLUSIVE MODE" "LOCK t" "TRUNCATE t" \
    "CREATE TRIGGER g AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()" "REFRESH MATERIALIZED VIEW CONCURRENTLY v" \
    "VACUUM FULL t"
  assert_exit 0
  assert_out_contains "SELECT 1 => none"
  assert_out_contains "CREATE TABLE t (id int) => none"
  assert_out_contains "ALTER TABLE s.t ADD COLUMN x int => ACCESS EXCLUSIVE s.t"
  assert_out_contains "VALIDATE CONSTRAINT c => SHARE UPDATE EXCLUSIVE t"
  assert_out_contains "NOT VALID => SHARE ROW EXCLUSIVE u, SHARE ROW EXCLUSIVE t"
  assert_out_contains "CREATE INDEX i ON t (x) => SHARE t"
  assert_out_contains "CREATE INDEX CONCURRENTLY i ON t (x) => SHARE UPDATE EXCLUSIVE t"
  assert_out_contains "DROP INDEX CONCURRENTLY i => SHARE UPDATE EXCLUSIVE i"
  assert_out_contains "UPDATE t SET x = 1 => ROW EXCLUSIVE t"
  assert_out_contains "IN SHARE ROW EXCLUSIVE MODE => SHARE ROW EXCLUSIVE t"
  assert_out_contains "LOCK t => ACCESS EXCLUSIVE t"
  assert_out_contains "TRUNCATE t => ACCESS EXCLUSIVE t"
  assert_out_contains "EXECUTE FUNCTION f() => SHARE ROW EXCLUSIVE t"
  assert_out_contains "CONCURRENTLY v => EXCLUSIVE v"
  assert_out_contains "VACUUM FULL t => ACCESS EXCLUSIVE t"
  assert_out_contains "SHARE blocks: writes (INSERT, UPDATE, DELETE) wait; plain reads go on"
}

# A data migration of many INSERTs: the first 200 statements and the DDL
# after them are listed, the other INSERTs counted; the strongest lock is
# the DDL's.
test_report_lists_the_locking_statements_of_a_long_file() {
  new_project
  add_migration 20240101000000_t $'CREATE TABLE t (id int);\n'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  { for i in $(seq 1 300); do echo "INSERT INTO t VALUES ($i);"; done; echo "ALTER TABLE t ADD COLUMN x int;"; } \
    >"$CASE_TMP/long.sql"
  add_migration 20240102000000_fill "$(cat "$CASE_TMP/long.sql")"
  run_stallrun workflows/verify.lua --env dev --json
  assert_eq "201 100 ACCESS EXCLUSIVE" "$(python3 -c "import json,sys; m=json.load(open(sys.argv[1]))['migrations'][0]; print(len(m['statements']), m['statements_omitted'], m['statements'][-1]['locks'][0]['mode'])" "$CASE_TMP/out")"
  run_stallrun workflows/verify.lua --env dev --format html
  assert_exit 0
  assert_out_contains "… and 100 more statement(s) that take no lock beyond ROW EXCLUSIVE (not listed)"
  assert_out_contains "<td><code>ACCESS EXCLUSIVE</code></td>"
}
