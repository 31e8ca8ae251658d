-- api_wrong_types.lua — calls every stallmig.* host function and method with wrong arguments
-- Run by tests/faults/test_hostile_workflows.sh (also under the ASan binary).
-- Every call must return or raise a Lua error; none may crash the process.
-- Prints one line per host function that accepted a table where it expects
-- something else, then "calls: N".
local ctx = ...
local env = ctx.env

local modules = { "stallmig.db", "stallmig.sql", "stallmig.files", "stallmig.sys",
                  "stallmig.error", "stallmig.guard" }
-- take no arguments, or any value: a table as argument 1 is not wrong for them
local takes_anything = {
  ["stallmig.sys.clock"] = true, ["stallmig.sys.utc_timestamp"] = true,
  ["stallmig.sys.utc_time"] = true, ["stallmig.sys.epoch"] = true, ["stallmig.sys.user"] = true,
  ["stallmig.sys.hostname"] = true, ["stallmig.error.is"] = true,
  ["stallmig.db.local_cluster"] = true, ["conn.transaction_status"] = true,
  ["conn.info"] = true, ["conn.twins"] = true, ["conn.identity"] = true,
  ["conn.transaction"] = true, ["tx.commit"] = true, ["tx.rollback"] = true,
  ["conn.require_primary"] = true, ["change.plan"] = true, ["change.policy"] = true,
  ["change.check"] = true, ["change.review"] = true, ["change.backup"] = true,
  ["change.rehearse"] = true, ["scan.release"] = true, ["change.expanded"] = true,
}
-- act on the database whatever their arguments: not called with junk here
local destructive = { recreate_database = true, replace_with_backup = true, restamp = true, close = true }

local huge = string.rep("x", 1 << 20)
local junk = {
  {}, { {} }, { nil, {} }, { {}, {} }, { 1e308 }, { -1e308 }, { math.huge }, { 0 / 0 },
  { math.maxinteger }, { math.mininteger }, { "no_such_environment" },
  { "no_such_environment", {} }, { env, {} }, { env, nil, {} }, { env, 1e308, {} },
  { huge }, { huge, huge }, { function() end }, { coroutine.create(function() end) },
  { io.stdout }, { true, false },
}

local calls, accepted = 0, {}

local function try(name, f, args, n)
  calls = calls + 1
  local ok, err = pcall(f, table.unpack(args, 1, n))
  if not ok and type(err) ~= "string" and not (type(err) == "table" and type(err.message) == "string") then
    error(name .. " raised a " .. type(err) .. " that is neither a message nor an error object")
  end
  return ok
end

local function fuzz(name, f, self)
  for _, args in ipairs(junk) do
    local a, n = args, #args
    for k in pairs(args) do if k > n then n = k end end
    if self ~= nil then
      a = { self }
      for i = 1, n do a[i + 1] = args[i] end
      n = n + 1
    end
    try(name, f, a, n)
  end
  local a = self ~= nil and { self, {} } or { {} }
  if try(name, f, a, #a) and not takes_anything[name] then accepted[#accepted + 1] = name end
end

-- every module function
for _, mod in ipairs(modules) do
  local m = require(mod)
  local names = {}
  for k, v in pairs(m) do if type(v) == "function" then names[#names + 1] = k end end
  table.sort(names)
  for _, k in ipairs(names) do
    if not (mod == "stallmig.sys" and k == "sleep") then fuzz(mod .. "." .. k, m[k]) end
  end
end

-- every method of a connection, a transaction and a scan, with junk, with a
-- wrong self, and after the object was closed
local db = require("stallmig.db")
local files = require("stallmig.files")
local function methods(obj)
  local idx, out = getmetatable(obj).__index, {}
  for k, v in pairs(idx) do
    if type(v) == "function" and k:sub(1, 2) ~= "__" then out[#out + 1] = k end
  end
  table.sort(out)
  return idx, out
end

local conn = db.connect(env)
local cidx, cnames = methods(conn)
for _, k in ipairs(cnames) do
  if not destructive[k] then fuzz("conn." .. k, cidx[k], conn) end
  try("conn." .. k, cidx[k], { {}, "SELECT 1" }, 2)        -- a table as self
  try("conn." .. k, cidx[k], { io.stdout, "SELECT 1" }, 2) -- another userdata as self
end
local tx = conn:transaction()
local tidx, tnames = methods(tx)
for _, k in ipairs(tnames) do fuzz("tx." .. k, tidx[k], tx) end
pcall(tx.rollback, tx)                                   -- the fuzz may have ended it
for _, k in ipairs(tnames) do try("tx." .. k, tidx[k], { tx }, 1) end   -- after it ended
for _, obj in ipairs({ tx, conn }) do                                   -- metamethods last
  for k, v in pairs(getmetatable(obj)) do
    if type(v) == "function" and k ~= "__index" then
      try(k, v, { {} }, 1)
      try(k, v, { obj, {}, 1e308 }, 3)
    end
  end
end
conn:close()
conn:close()
for _, k in ipairs(cnames) do try("conn." .. k, cidx[k], { conn, "SELECT 1" }, 2) end  -- closed

-- a change: every method with junk, with a wrong self, and after it ended
local conn2 <close> = db.connect(env)
local change = conn2:begin_change("wrong types")
local chidx, chnames = methods(change)
for _, k in ipairs(chnames) do
  if not destructive[k] then fuzz("change." .. k, chidx[k], change) end
  try("change." .. k, chidx[k], { {}, "x" }, 2)
  try("change." .. k, chidx[k], { conn2, "x" }, 2)
end
for k, v in pairs(getmetatable(change)) do
  if type(v) == "function" and k ~= "__index" then try(k, v, { {} }, 1) end
end
change:close()
for _, k in ipairs(chnames) do try("change." .. k, chidx[k], { change, "x" }, 2) end   -- ended

local scan = files.scan(ctx.config.migrations)
local sidx, snames = methods(scan)
-- release last: it frees the scan whatever its other arguments
for _, k in ipairs(snames) do if k ~= "release" then fuzz("scan." .. k, sidx[k], scan) end end
fuzz("scan.release", sidx.release, scan)
getmetatable(scan).__close(scan)
for _, k in ipairs(snames) do try("scan." .. k, sidx[k], { scan, ctx.config.migrations }, 2) end

-- sys.sleep: a huge, negative or NaN wait is refused, not slept (nor UB in C)
local sys = require("stallmig.sys")
for _, seconds in ipairs({ 1e308, math.huge, -1, 0 / 0, 86401, {}, "soon" }) do
  if try("stallmig.sys.sleep", sys.sleep, { seconds }, 1) then
    accepted[#accepted + 1] = "stallmig.sys.sleep(" .. tostring(seconds) .. ")"
  end
end

print("")
for _, name in ipairs(accepted) do print("accepted a table: " .. name) end
print("calls: " .. calls)
