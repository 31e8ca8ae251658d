-- stallmig.seed — fill a freshly reset database with test data.
-- A .sql seed runs in one transaction; a .lua seed gets the connection and
-- the context ({conn = conn, ctx = ctx}) and may use the whole Lua API.
local files = require("stallmig.files")
local errors = require("stallmig.error")
local sql = require("stallmig.sql")
local guard = require("stallmig.guard")

local seed = {}

-- The seed's path as the user knows it (relative to the project).
local function shown(ctx, path)
  return (ctx.config.dir and path:gsub("^" .. ctx.config.dir:gsub("%p", "%%%0") .. "/", "") or path)
end

-- Dev-only work: the host refuses it on a protected connection, or one in
-- doubt (guard.dev_only), whoever calls it. Recorded in stallmig.audit.
function seed.run(conn, ctx)
  guard.dev_only(conn)
  local path = ctx.config.seed
  if files.kind(path) ~= "file" then
    error(errors.new("config", "the seed " .. path .. " does not exist",
      { hint = "write it, set [project] seed in " .. ctx.config.path .. ", or pass --no-seed" }), 0)
  end
  conn:allow_writes("seed: " .. shown(ctx, path))
  if path:match("%.lua$") then
    local chunk, why = loadfile(path, "t")
    if not chunk then error(errors.new("config", why), 0) end
    return chunk({ conn = conn, ctx = ctx })
  end
  local text = files.read(path)
  local tx <close> = conn:transaction()
  local ok, err = pcall(conn.exec, conn, text)
  if not ok then
    if type(err) == "table" then
      err.file = shown(ctx, path)
      err.line = err.position and (sql.position(text, err.position)) or nil
      err.message = "the seed failed (nothing of it was kept): " .. tostring(err.message)
    end
    error(err, 0)
  end
  tx:commit()
end

-- Rows in every table outside the system and stallmig schemas, by name.
function seed.row_counts(conn)
  return conn:query([[
    SELECT table_schema AS schema, table_name AS name,
           (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I',
              table_schema, table_name), false, true, '')))[1]::text::bigint AS rows
      FROM information_schema.tables
     WHERE table_type = 'BASE TABLE'
       AND table_schema NOT IN ('pg_catalog', 'information_schema', 'stallmig')
     ORDER BY table_schema, table_name]])
end

return seed
