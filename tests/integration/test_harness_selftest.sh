# The harness itself: a database per case, psql_q, and failing assertions.

test_harness_creates_databases_and_detects_failures() {
  new_project
  assert_eq 1 "$(psql_q 'SELECT 1')"
  local other
  other=$(new_db)
  [ "$other" != "$DB_URL" ] || fail "new_db returned the same database twice"
  if (assert_eq a b) 2>/dev/null; then fail "assert_eq accepted different values"; fi
  STATUS=3
  if (assert_exit 0) 2>/dev/null; then fail "assert_exit accepted the wrong status"; fi
}
