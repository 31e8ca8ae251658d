# lib_invariant.sh — the one property every fault case checks afterwards:
# the history (stallmig.migrations, one row per attempt, the latest decides)
# and the schema agree. Each migration the fault suite writes creates a table
# named after its own folder (fault_migration in lib_inflight.sh), so "its
# objects exist" is to_regclass(folder name).
#
#   assert_invariant [PART_WAY_NAME...]
#
# Per migration folder of $PROJECT:
#   latest row 'applied'           -> its table exists, and exactly one row says applied
#   no row, 'rolled_back', or
#   'failed' and not partial       -> its table does not exist, no row says applied
#   'failed' and partial           -> allowed only for the names given (a migration
#                                     outside one transaction, recorded as failed
#                                     part-way: deploy refuses it until resolved)
# Also: no session of stallrun is left on the database, and no one holds the
# deploy lock (both waited for a bounded time: a dying backend takes a moment).

# The deploy lock's key, "STALLMIG" as a bigint, split as pg_locks shows it.
DEPLOY_LOCK_WHERE="locktype = 'advisory' AND objsubid = 1 AND classid = 1398030668 AND objid = 1280133447
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"

# eventually SECONDS COMMAND... — runs COMMAND every 0.1 s until it succeeds;
# fails (returns 1) when SECONDS have passed.
eventually() {
  local deadline=$(( $(date +%s%N) + $1 * 1000000000 ))
  shift
  until "$@"; do
    [ "$(date +%s%N)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

_no_stallrun_session() {
  [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
      AND application_name LIKE 'stallrun%' AND pid <> pg_backend_pid()")" = 0 ]
}

_deploy_lock_free() {
  [ "$(psql_q "SELECT count(*) FROM pg_locks WHERE $DEPLOY_LOCK_WHERE")" = 0 ]
}

assert_no_stallrun_left() {
  eventually 20 _no_stallrun_session ||
    fail "a stallrun session is still on the database after 20 s:
$(psql_q "SELECT pid, state, application_name, left(query, 80) FROM pg_stat_activity
           WHERE datname = current_database() AND application_name LIKE 'stallrun%'")"
  eventually 20 _deploy_lock_free || fail "the deploy lock is still held after 20 s"
}

# One query: per folder name, its latest outcome and partial flag, how many
# rows say applied, and whether its table exists.
_invariant_rows() {
  local names="" dir has_history
  for dir in "$PROJECT"/migrations/*/; do names+="${names:+,}'$(basename "$dir")'"; done
  has_history=$(psql_q "SELECT to_regclass('stallmig.migrations') IS NOT NULL")
  if [ "$has_history" = t ]; then
    psql_q "SELECT n.name, coalesce(l.outcome, ''), coalesce(l.partial::text, ''),
                   (SELECT count(*) FROM stallmig.migrations a WHERE a.name = n.name AND a.outcome = 'applied'),
                   to_regclass(format('public.%I', n.name)) IS NOT NULL
              FROM unnest(ARRAY[$names]) AS n(name)
              LEFT JOIN LATERAL (SELECT outcome, partial FROM stallmig.migrations h
                                  WHERE h.name = n.name ORDER BY id DESC LIMIT 1) l ON true"
  else
    psql_q "SELECT n.name, '', '', 0, to_regclass(format('public.%I', n.name)) IS NOT NULL
              FROM unnest(ARRAY[$names]) AS n(name)"
  fi
}

assert_invariant() {
  local part_way=" $* " name latest partial applied_rows exists
  assert_no_stallrun_left
  while IFS='|' read -r name latest partial applied_rows exists; do
    case "$latest|$partial" in
      applied\|*)
        [ "$exists" = t ] || fail "invariant: $name is recorded as applied but its table does not exist"
        [ "$applied_rows" = 1 ] || fail "invariant: $name has $applied_rows rows saying applied, not 1" ;;
      failed\|true)
        [[ "$part_way" == *" $name "* ]] ||
          fail "invariant: $name is recorded as failed part-way, which this case does not expect" ;;
      *)
        [ "$exists" = f ] || fail "invariant: the table of $name exists but it is not recorded as applied (latest: ${latest:-no row})"
        [ "$applied_rows" = 0 ] || fail "invariant: $name is not applied now, yet a row says applied" ;;
    esac
  done <<<"$(_invariant_rows)"
}

# finish_part_way NAME — the recovery every part-way case ends with: deploy
# refuses NAME (failed at its statement 2, after statement 1 committed),
# resolving it as applied lets the next deploy complete, and the invariant
# holds. Leaves STATUS/OUT/ERR of that last deploy.
finish_part_way() {
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "$1 failed earlier and may have left part of its work behind (statement 2"
  run_stallrun workflows/resolve.lua --env dev --migration "$1" --applied --reason "statement 1 had committed"
  assert_exit 0
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_invariant
}

# redeploy_completes [N] — the slow migrations no longer sleep, the next
# deploy exits 0 (having applied N migrations, when N is given) and the
# invariant holds.
redeploy_completes() {
  set_sleep 0
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  [ -z "${1:-}" ] || assert_out_contains "Deployed $1 migration(s)"
  assert_invariant
}
