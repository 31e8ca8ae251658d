# The repository's own example: the stallplass history and the demo command.

test_demo_runs_from_a_clean_copy() {
  local copy="$CASE_TMP/repo"
  mkdir -p "$copy"
  # what a clone has: the tracked files (plus this build's binary)
  (cd "$REPO" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$copy") || fail "cannot copy the repository"
  cp "$STALLRUN" "$copy/stallrun"
  STATUS=0
  (cd "$copy" && scripts/demo.sh) >"$CASE_TMP/out" 2>"$CASE_TMP/err" || STATUS=$?
  (cd "$copy" && ./stallrun workflows/local.lua stop) >/dev/null 2>&1 || true
  assert_exit 0
  assert_out_contains "Applying 7 migration(s)"
  assert_out_contains "public.bookings                                60 rows"
  assert_out_contains "dev: 7 applied, 0 pending, 0 failed, 0 modified, 0 missing."
  ! grep -qE 'Sanitizer|runtime error:' "$CASE_TMP/err" || fail "sanitizer report"
}

test_example_history_applies_and_classifies() {
  new_project
  cp -r "$REPO"/migrations/. "$PROJECT/migrations/"
  run_stallrun workflows/deploy.lua --env dev --json
  assert_exit 0
  assert_eq "7 non-transactional" "$(json_get "['pending']") $(json_get "['applied'][6]['mode']")"
  assert_eq "phone,bio,avatar_url,municipality" "$(psql_q "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'users' AND ordinal_position > 6")"
  assert_eq 1 "$(psql_q "SELECT count(*) FROM pg_index WHERE indexrelid = 'listings_title_idx'::regclass AND indisvalid")"
}
