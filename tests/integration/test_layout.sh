# README.md's "Where things live" against the tree: every path its table
# names exists, and every file of the code (lua/stallmig/, workflows/, src/)
# is in one of the places it names.

# The paths in the table of the section, one per line: every `...` in a
# table row that holds a "/", with <placeholder> turned into the glob *.
where_things_live_globs() {
  awk '/^## Where things live$/ {on = 1; next} /^## / {on = 0} on && /^\|/' "$REPO/README.md" |
    grep -o '`[^`]*`' | tr -d '`' | grep / | sed -E 's/<[^>]+>/*/g' | sort -u
}

test_readme_where_things_live_names_places_that_exist() {
  local globs glob
  globs=$(where_things_live_globs)
  [ "$(wc -l <<<"$globs")" -ge 10 ] || fail "README.md's \"Where things live\" table names too few paths: $globs"
  while IFS= read -r glob; do
    compgen -G "$REPO/$glob" >/dev/null ||
      fail "README.md's \"Where things live\" names $glob, and nothing in the repository matches it"
  done <<<"$globs"
}

test_readme_where_things_live_covers_every_code_file() {
  local globs glob file covered="$CASE_TMP/covered" strays=()
  globs=$(where_things_live_globs)
  # what the globs match (a * never crosses a /, as in the shell)
  while IFS= read -r glob; do
    compgen -G "$REPO/$glob" || true
  done <<<"$globs" | sed "s|^$REPO/||" | sort -u >"$covered"
  while IFS= read -r file; do
    grep -qxF -- "$file" "$covered" || strays+=("$file")
  done < <(cd "$REPO" && find lua/stallmig workflows src -type f ! -name '.*' | sort)
  [ ${#strays[@]} -eq 0 ] ||
    fail "files that none of README.md's \"Where things live\" places names (add a row, or move them): ${strays[*]}"
}
