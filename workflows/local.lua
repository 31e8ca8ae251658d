-- local.lua — the project's own PostgreSQL for url = local:NAME: start, stop or status
--
--   stallrun workflows/local.lua status|start|stop
--
-- An environment whose url is local:stallplass_dev uses a private cluster in
-- .stallmig/pg (created with initdb on first use, a unix socket there, no TCP
-- port). Connecting starts it; this stops it, or says whether it runs.
local ctx = ...
local db = require("stallmig.db")
local errors = require("stallmig.error")

local action = ctx.args[1] or "status"
if action ~= "start" and action ~= "stop" and action ~= "status" then
  error(errors.new("usage", "unknown action '" .. tostring(action) .. "' (start, stop or status)"), 0)
end
print("local PostgreSQL (.stallmig/pg): " .. db.local_cluster(action))
