-- create.lua — start a new migration with a descriptive name (prisma migrate dev --create-only)
--
--   stallrun workflows/create.lua --name add-user-profile-fields
--
-- Writes migrations/<UTC timestamp>_add_user_profile_fields/migration.sql
-- and down.sql templates. Touches no database.
local ctx = ...
local cli = require("stallmig.cli")
local migrations = require("stallmig.migrations")
local create = require("stallmig.create")
local files = require("stallmig.files")

cli.check_options(ctx, { name = true })

-- 1. The existing folders, so the new timestamp sorts after all of them.
local found = {}
if files.kind(ctx.config.migrations) == "dir" then found = migrations.discover(ctx.config) end

-- 2. The folder and its two templates.
local dir = create.folder(ctx.config, found, ctx.options.name)
local shown = migrations.display_path(ctx.config, dir)
print("Created " .. shown .. "/migration.sql")
print("    and " .. shown .. "/down.sql (the rollback plan)")
print("Write the change, then: stallrun workflows/deploy.lua --env dev")
