# The studio in a real headless Chromium (tests/browser/studio_flow.js over
# the DevTools protocol): browse, filter, page, follow foreign keys, edit on
# dev, the refusal on prod, the migrations page and the schema. Screenshots
# go to $SHOTS (build/test-output/screenshots/TEST, lib.sh). The server
# helpers are test_studio.sh's.
source "$REPO/tests/integration/test_studio.sh"

browser_flow() {
  rm -rf "$SHOTS" && mkdir -p "$SHOTS"   # a screenshot from an earlier run proves nothing
  node "$REPO/tests/browser/studio_flow.js" "$STUDIO_URL" "$SHOTS" "$1" >"$CASE_TMP/flow.out" 2>&1 ||
    { studio_stop; fail "studio_flow $1: $(cat "$CASE_TMP/flow.out")"; }
}

test_studio_browser_dev_browse_filter_page_follow_edit() {
  studio_project
  studio_start dev
  browser_flow dev
  studio_stop
  assert_eq "edited in chromium" "$(psql_q 'SELECT name FROM customers WHERE id = 3')"
  [ -s "$SHOTS/dev-07-edited.png" ] || fail "no screenshot of the edit"
}

test_studio_browser_prod_is_read_only() {
  studio_project
  studio_start prod
  browser_flow prod
  studio_stop
  assert_eq "customer 2" "$(psql_q 'SELECT name FROM customers WHERE id = 2' "$PROD_URL")"
  [ -s "$SHOTS/prod-02-refused.png" ] || fail "no screenshot of the refusal"
}

test_browser_open_reports_console_errors_offline() {
  mkdir -p "$CASE_TMP/pages"
  printf '<!doctype html><title>ok</title><p>fine</p>' >"$CASE_TMP/pages/good.html"
  printf '<!doctype html><title>bad</title><link rel="stylesheet" href="https://example.com/x.css"><script>console.error("boom")</script>' \
    >"$CASE_TMP/pages/bad.html"
  node "$REPO/tests/browser/open.js" "file://$CASE_TMP/pages/good.html" "$CASE_TMP/good.png" >"$CASE_TMP/open.out" 2>&1 ||
    fail "a clean page failed: $(cat "$CASE_TMP/open.out")"
  [ -s "$CASE_TMP/good.png" ] || fail "no screenshot"
  if node "$REPO/tests/browser/open.js" "file://$CASE_TMP/pages/bad.html" "$CASE_TMP/bad.png" >"$CASE_TMP/open.out" 2>&1; then
    fail "a page with console errors passed"
  fi
  grep -q 'console.error: boom' "$CASE_TMP/open.out" || fail "console.error not reported: $(cat "$CASE_TMP/open.out")"
  grep -q 'ERR_INTERNET_DISCONNECTED' "$CASE_TMP/open.out" || fail "a network fetch not refused: $(cat "$CASE_TMP/open.out")"
}
