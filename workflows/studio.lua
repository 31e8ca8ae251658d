-- studio.lua — browse and edit the database in a web page (prisma studio)
--
--   stallrun workflows/studio.lua --env dev [--port N] [--open] [--listen ADDR]
--
-- Serves on 127.0.0.1 (--listen another address) and prints the URL with
-- its token; Ctrl-C stops it. Rows are editable only where stallmig.ini
-- says protected = false: elsewhere the host's connection is read-only
-- (docs/studio.md). Copy this file to add pages of your own.
local ctx = ...
local cli = require("stallmig.cli")
local studio = require("stallmig.studio")
local errors = require("stallmig.error")

cli.check_options(ctx, { port = true, open = true, listen = true })
local env = cli.require_env(ctx)

-- A page of your own: studio.route("GET", "^/hello$", function(app, req)
--   return studio.html.page(app, "Hello", "<p>" .. studio.html.esc(app.env) .. "</p>") end)

-- 1. The port: Prisma Studio's 5555 unless --port says (0: any free one).
local port = tonumber(ctx.options.port or 5555)
if not port or port % 1 ~= 0 then error(errors.new("usage", "--port takes a number, e.g. --port 5555"), 0) end

-- 2. Serve until Ctrl-C: the URL (with its token) is printed first.
studio.serve(ctx, { env = env.name, port = port, listen = ctx.options.listen, open = ctx.options.open })
