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
  assert_err_contains "hint: fix the url of [env.staging] in stallmig.ini, or the environment variable it names"
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

# reach.lua WHAT — a script that reaches the --env environment's server one
# way: connect, create_database, shadow, backup (pg_dump) or restore
# (pg_restore of backups/x.dump).
write_reach_script() {
  cat >"$PROJECT/reach.lua" <<'LUA'
local ctx = ...
local db = require("stallmig.db")
local what = ctx.args[1]
if what == "connect" then db.connect(ctx.env):close()
elseif what == "create_database" then db.create_database(ctx.env)
elseif what == "shadow" then db.shadow(ctx.env):close()
elseif what == "backup" then db.backup(ctx.env, ctx.config.dir .. "/backups/x.dump")
elseif what == "restore" then print((db.restore(ctx.env, ctx.config.dir .. "/backups/x.dump")))
end
LUA
}

# A url that leaves the database to libpq's defaults connected wherever
# PGDATABASE/PGHOST pointed (here: prod's database), or to one named after
# the user. It is exit 2 at the url's line, on every path to a server,
# before anything connects.
test_url_that_names_no_database_is_refused_before_connecting() {
  new_project
  write_reach_script
  local prod_url prod_db url what
  prod_url=$(new_db prod)
  prod_db=$(sed -E 's|^postgresql:///([^?]+)\?.*|\1|' <<<"$prod_url")
  printf '\n[env.prod]\nurl = %s\n' "$prod_url" >>"$PROJECT/stallmig.ini"
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  pointed() { PGHOST=$CLUSTER PGDATABASE=$prod_db PGUSER=postgres PGPORT=5432 run_stallrun "$@"; }
  local made
  made=$(psql_q "SELECT count(*) FROM pg_database" "$prod_url")
  for url in 'postgresql://' 'postgresql://:@/' 'dbname=' "host=$CLUSTER user=postgres" \
      "postgresql://?host=$CLUSTER" "postgresql:///?dbname=&host=$CLUSTER"; do
    awk -v url="$url" 'NR == 5 { print "url = " url; next } { print }' "$PROJECT/stallmig.ini" >"$CASE_TMP/ini"
    mv "$CASE_TMP/ini" "$PROJECT/stallmig.ini"
    pointed workflows/deploy.lua --env dev
    assert_exit 2
    assert_eq "stallrun: stallmig.ini:5: the url of [env.dev] does not name a database: stallrun never lets PGDATABASE, PGHOST, PGUSER or libpq's defaults choose an environment's database" \
      "$(head -n 1 "$CASE_TMP/err")" "the error line for url = $url"
    assert_err_contains "hint: write the database in the url: url = postgresql://USER@HOST:PORT/DBNAME"
  done
  for what in connect create_database shadow backup restore; do
    pointed reach.lua --env dev "$what"
    assert_exit 2
    assert_err_contains "stallmig.ini:5: the url of [env.dev] does not name a database"
  done
  assert_eq "|" "$(psql_q "SELECT coalesce(to_regnamespace('stallmig')::text, '') || '|' || coalesce(to_regclass('a')::text, '')" "$prod_url")" "prod's database was touched"
  assert_eq "$made" "$(psql_q "SELECT count(*) FROM pg_database" "$prod_url")" "a database was created"
}

# What a url leaves out (here the port, and a service) is libpq's default,
# never PGPORT, PGHOSTADDR, PGSERVICE or PGUSER: a deploy with a backup
# (pg_dump, and pg_restore to verify it), a shadow and a restore go to the
# url's database although every variable points somewhere else.
test_pg_variables_never_fill_in_what_a_url_leaves_out() {
  new_project
  write_reach_script
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  printf 'backup = true\n' >>"$PROJECT/stallmig.ini"
  elsewhere() {
    PGPORT=1 PGHOSTADDR=127.0.0.1 PGSERVICE=stallmig_no_such_service PGDATABASE=postgres \
      PGUSER=stallmig_no_such_role run_stallrun "$@"
  }
  elsewhere workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq "a" "$(psql_q "SELECT to_regclass('a')")"
  cp "$(ls "$PROJECT"/backups/dev/*.dump | tail -n 1)" "$PROJECT/backups/x.dump"
  elsewhere reach.lua --env dev shadow
  assert_exit 0
  elsewhere reach.lua --env dev restore
  assert_exit 0
  local admin
  admin=$("$REPO/tests/harness/pgcluster.sh" url "$CLUSTER" postgres)
  assert_eq 1 "$(psql_q "SELECT count(*) FROM pg_database WHERE datname = '$OUT'" "$admin")" \
    "the restore went to the url's server"
  psql_q "DROP DATABASE \"$OUT\"" "$admin" >/dev/null
  # a url without a user: the operating system's user name, not PGUSER's
  local no_user=${DB_URL/&user=postgres/}
  awk -v url="$no_user" '/^url = /{ print "url = " url; next } { print }' "$PROJECT/stallmig.ini" >"$CASE_TMP/ini"
  mv "$CASE_TMP/ini" "$PROJECT/stallmig.ini"
  elsewhere workflows/status.lua --env dev
  assert_not_contains "stallmig_no_such_role"
  assert_not_contains "no server is accepting connections"
}

# A password with an unencoded '/', '#', '?' or '@': libpq took part of it
# as the host or the port, which the error then printed. Every path to a
# server refuses the url first (exit 2), explains percent-encoding, and
# prints no part of it; another environment's such url is never connected
# to for the alias check.
test_ambiguous_password_in_a_url_is_refused_without_printing_it() {
  new_project
  write_reach_script
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  local url what
  local -a urls=(
    'postgresql://app:Sentinel/Slash-1@127.0.0.1:1/db'
    'postgresql://app:Sentinel#Hash-2@127.0.0.1:1/db'
    'postgresql://app:Sentinel?Query-3@127.0.0.1:1/db'
    'postgresql://app:Sentinel@At-4@127.0.0.1:1/db'
    'postgres://ap/p:Sentinel-5@127.0.0.1:1/db'
  )
  for url in "${urls[@]}"; do
    awk -v url="$url" '/^url = /{ print "url = " url; next } { print }' "$PROJECT/stallmig.ini" >"$CASE_TMP/ini"
    mv "$CASE_TMP/ini" "$PROJECT/stallmig.ini"
    for what in connect create_database shadow backup restore; do
      run_stallrun reach.lua --env dev "$what"
      assert_exit 2
      assert_err_contains "stallmig.ini:5: the url of [env.dev] is ambiguous: its user name, password or database name holds a '/', '?', '#' or '@' that is not percent-encoded"
      assert_err_contains "hint: percent-encode those characters in the url ('@' as %40, '/' as %2F, '?' as %3F, '#' as %23"
      assert_not_contains "Sentinel"
      assert_not_contains "Slash"
      assert_not_contains "Hash"
      assert_not_contains "Query"
      assert_not_contains "At-4"
    done
  done
  # the alias and twin checks do not connect to it either
  awk -v url="$DB_URL" '/^url = /{ print "url = " url; next } { print }' "$PROJECT/stallmig.ini" >"$CASE_TMP/ini"
  mv "$CASE_TMP/ini" "$PROJECT/stallmig.ini"
  printf '\n[env.prod]\nurl = %s\n' 'postgresql://app:Sentinel/Slash-6@127.0.0.1:1/db' >>"$PROJECT/stallmig.ini"
  cat >"$PROJECT/drop.lua" <<'LUA'
local ctx = ...
local conn <close> = require("stallmig.db").connect(ctx.env)
conn:push("CREATE TABLE pushed (id int)")
LUA
  run_stallrun drop.lua --env dev
  assert_exit 0
  assert_not_contains "Sentinel"
  assert_not_contains "Slash"
}
