# Hostile stallmig.ini files and environment variables: exit 2, the file and
# line, a hint, never a password, nothing touched. (config_load's messages for
# each malformed line are unit-tested in tests/unit/test_config.c.)

test_empty_ini_names_no_environments() {
  new_project
  : >"$PROJECT/stallmig.ini"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 2
  assert_err_contains "stallrun: unknown environment 'dev': stallmig.ini defines no environments"
  assert_err_contains "hint: pass --env with one of those names, or add an [env.dev] section with a url"
}

test_every_malformed_ini_is_exit_2_with_file_line_and_hint() {
  new_project
  local good="[env.dev]
url = $DB_URL
protected = false
" long
  long=$(printf 'x%.0s' $(seq 1 5000))
  local -a names=(binary garbage dup_section dup_key long_line unterminated)
  printf '[env.dev]\nurl = \x00\x01\x02\xff\n' >"$PROJECT/binary.ini"
  printf '\xff\xfe\x89PNG\r\n\x1a\n' >"$PROJECT/garbage.ini"
  printf '%s[env.dev]\nurl = x\n' "$good" >"$PROJECT/dup_section.ini"
  printf '%surl = x\n' "$good" >"$PROJECT/dup_key.ini"
  printf '%s; %s\n' "$good" "$long" >"$PROJECT/long_line.ini"
  printf '[env.dev]\nurl = ${DATABASE_URL\nprotected = false\n' >"$PROJECT/unterminated.ini"
  local -A expect=(
    [binary]="binary.ini:2: contains a NUL byte: this is not a text INI file"
    [garbage]="garbage.ini:1: malformed line"
    [dup_section]="dup_section.ini:4: [env.dev] appears twice (first at line 1); merge them"
    [dup_key]="dup_key.ini:4: duplicate key 'url' in [env.dev] (first set at line 2)"
    [long_line]="long_line.ini:4: line is longer than 4092 characters"
    [unterminated]="unterminated.ini:2: unterminated '\${' (add the closing '}')"
  )
  for name in "${names[@]}"; do
    run_stallrun workflows/deploy.lua --env dev --config "$PROJECT/$name.ini"
    assert_exit 2
    assert_err_contains "stallrun: $PROJECT/${expect[$name]}"
    assert_err_contains "hint: "
    [ "$(grep -c "" "$CASE_TMP/err")" -le 3 ] || fail "$name.ini: more than an error and a hint"
  done
  assert_eq "" "$(psql_q "SELECT to_regnamespace('stallmig')")" "something was written"
}

test_variable_with_a_newline_is_refused_without_echoing_it() {
  new_project
  printf '\n[env.staging]\nurl = ${STALLMIG_TEST_URL}\n' >>"$PROJECT/stallmig.ini"
  export STALLMIG_TEST_URL=$'postgresql://app:Sentinel-Nl-3@127.0.0.1:1/db\nhost=elsewhere'
  run_stallrun workflows/status.lua --env staging
  assert_exit 2
  assert_err_contains "stallmig.ini:10: [env.staging] url contains a newline or another control character (from the variable it names)"
  assert_err_contains "hint: fix the url of [env.NAME] in stallmig.ini, or the environment variable it names"
  assert_not_contains "Sentinel"
  assert_not_contains "elsewhere"
}

test_password_and_bad_escape_from_a_variable_never_printed() {
  new_project
  printf '\n[env.staging]\nurl = ${STALLMIG_TEST_URL}\n' >>"$PROJECT/stallmig.ini"
  export STALLMIG_TEST_URL='postgresql://app:Sentinel-Var-4@127.0.0.1:1/db'
  run_stallrun workflows/deploy.lua --env staging --yes --json
  assert_exit 1
  assert_err_contains "cannot connect to staging"
  assert_eq "False" "$(json_get "['ok']")"
  assert_not_contains "Sentinel"
  export STALLMIG_TEST_URL='postgresql://app:Sentinel%zzVar@127.0.0.1:1/db'
  run_stallrun workflows/status.lua --env staging
  assert_exit 2
  assert_err_contains "stallmig.ini:10: the url of [env.staging] is not a valid PostgreSQL URL"
  assert_err_contains "hint: check for a '%' not followed by two hex digits"
  assert_not_contains "Sentinel"
  export STALLMIG_TEST_URL='${STALLMIG_TEST_URL}'    # a value is not expanded again
  run_stallrun workflows/status.lua --env staging
  assert_exit 2
  assert_err_contains "is not a valid PostgreSQL URL"
}

# A local:NAME the server would cut short is refused before a cluster is
# made (exit 2: a configuration error, like a malformed local: name).
test_overlong_local_database_name_starts_nothing() {
  new_project
  sed -i "s|^url = .*\$|url = local:$(printf 'x%.0s' $(seq 1 64))|" "$PROJECT/stallmig.ini"
  run_stallrun workflows/status.lua --env dev
  assert_exit 2
  assert_err_contains "stallmig.ini:5: [env.dev] url = local:...: a database name is at most 63 bytes"
  assert_err_contains "hint: name the project's local database with letters, digits and '_'"
  [ ! -e "$PROJECT/.stallmig" ] || fail "a local cluster was made for a name that cannot be used"
}

# --config naming something that is not an INI file: /dev/zero once filled
# memory until abort(), a FIFO waited for ever for a writer.
test_config_that_is_a_device_fifo_folder_or_huge() {
  new_project
  printf '#!/bin/sh\nexec timeout 60 %q "$@"\n' "$STALLRUN" >"$CASE_TMP/stallrun-timeout"
  chmod +x "$CASE_TMP/stallrun-timeout"
  STALLRUN="$CASE_TMP/stallrun-timeout"
  mkfifo "$PROJECT/fifo.ini"
  mkdir "$PROJECT/folder.ini"
  head -c 2000000 /dev/zero | tr '\0' ';' >"$PROJECT/huge.ini"
  local -A expect=([/dev/zero]="it is not a regular file" [fifo.ini]="it is not a regular file"
                   [folder.ini]="it is a directory" [huge.ini]="it is larger than 1 MiB")
  local config
  for config in /dev/zero fifo.ini folder.ini huge.ini; do
    run_stallrun workflows/status.lua --env dev --config "$config"
    assert_exit 2
    assert_err_contains "stallrun: $config: cannot read the configuration: ${expect[$config]}"
    assert_err_contains "hint: pass --config with the path of your project's stallmig.ini"
  done
}

# A duration the server would not take used to pass the INI check, and then
# every connection failed ("check that the server is running"): "5 s" as a
# startup option splits in two, 99999999999h is beyond INT_MAX milliseconds.
# The first is now given to the server as 5s; the others are exit 2 at the
# line, before anything connects, saying what is accepted.
test_durations_postgresql_would_refuse() {
  new_project
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  cat >"$PROJECT/timeout.lua" <<'LUA'
local ctx = ...
local conn <close> = require("stallmig.db").connect(ctx.env)
local row = conn:query("SELECT current_setting('lock_timeout') AS l, current_setting('statement_timeout') AS s")[1]
print(row.l .. "|" .. row.s)
LUA
  printf 'lock_timeout = 5 s\nstatement_timeout = 1.5min\n' >>"$PROJECT/stallmig.ini"
  run_stallrun timeout.lua --env dev
  assert_exit 0
  assert_eq "5s|90s" "$OUT" "the server's lock_timeout and statement_timeout"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  local value line
  for value in 99999999999h 25d 0.2ms '5 sec' 5S; do
    sed -i "s/^lock_timeout = .*/lock_timeout = $value/" "$PROJECT/stallmig.ini"
    line=$(grep -n '^lock_timeout' "$PROJECT/stallmig.ini" | cut -d: -f1)
    run_stallrun workflows/status.lua --env dev
    assert_exit 2
    assert_err_contains "stallmig.ini:$line: [env.dev] lock_timeout = '$value' is"
    assert_err_contains "PostgreSQL"
    assert_err_contains "hint: fix"
  done
  sed -i 's/^lock_timeout = .*/lock_timeout = 5s/; s/^statement_timeout = .*/keep_backups = 4294967297/' "$PROJECT/stallmig.ini"
  run_stallrun workflows/status.lua --env dev
  assert_exit 2
  assert_err_contains "[env.dev] keep_backups = '4294967297': expected a whole number from 1 to 10000"
}
