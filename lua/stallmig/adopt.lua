-- stallmig.adopt — take over a database whose migrations were applied by
-- Prisma Migrate (_prisma_migrations) or by hand (a baseline), so that
-- nothing is applied twice. Mismatches are reported, never guessed at.
local files = require("stallmig.files")
local history = require("stallmig.history")
local migrations = require("stallmig.migrations")
local errors = require("stallmig.error")

local adopt = {}

-- Every finished, not rolled back row of _prisma_migrations, matched to a
-- folder by name and checksum. Returns matches and problems (sentences).
function adopt.from_prisma(conn, found)
  local ok, rows = pcall(conn.query, conn, [[
    SELECT migration_name, checksum, finished_at::text AS finished_at, rolled_back_at IS NOT NULL AS rolled_back,
           started_at::text AS started_at
      FROM _prisma_migrations ORDER BY started_at, migration_name]])
  if not ok then
    error(errors.new("failed", "this database has no _prisma_migrations table to adopt"), 0)
  end
  local by_name, matches, problems = {}, {}, {}
  for _, m in ipairs(found) do by_name[m.name] = m end
  for _, row in ipairs(rows) do
    local m = by_name[row.migration_name]
    if row.rolled_back then
      -- Prisma's "resolved as rolled back": not applied, nothing to adopt
    elseif not row.finished_at then
      problems[#problems + 1] = row.migration_name .. ": failed in Prisma (no finished_at); resolve it "
        .. "with prisma migrate resolve first"
    elseif not m then
      problems[#problems + 1] = row.migration_name .. ": applied by Prisma, but there is no such folder"
    elseif m.checksum ~= row.checksum
        and not files.checksum_matches(files.read(migrations.locate(m, found).path), row.checksum) then
      problems[#problems + 1] = row.migration_name .. ": the file differs from what Prisma applied (checksum)"
    else
      matches[#matches + 1] = { m = m, started_at = row.started_at, finished_at = row.finished_at }
    end
  end
  return matches, problems
end

-- Every folder up to and including `last`, as if applied (a baseline);
-- "none": nothing (every migration is still to apply, over a schema that is
-- already there: the first deploy's check is then satisfied).
function adopt.baseline(found, last)
  if last == "none" then return {} end
  local matches, seen = {}, false
  for _, m in ipairs(found) do
    if not seen then matches[#matches + 1] = { m = m } end
    if m.name == last then seen = true end
  end
  if not seen then error(errors.new("failed", last .. " is not a migration folder"), 0) end
  return matches
end

-- Records the matches as applied; `how` says where they came from.
function adopt.record(conn, env, matches, how)
  local tx <close> = conn:transaction()
  for _, x in ipairs(matches) do
    conn:query([[
      INSERT INTO stallmig.migrations (name, checksum, started_at, finished_at, duration_ms,
        applied_by, environment, mode, outcome, note)
      VALUES ($1, $2, coalesce($3::timestamptz, now()), coalesce($4::timestamptz, now()), 0, $5, $6,
        'transactional', 'applied', $7)]],
      x.m.name, x.m.checksum, x.started_at, x.finished_at, history.applied_by(), env, how)
  end
  tx:commit()
end

return adopt
