-- lua_api_docs.lua — reads docs/lua-api.md for tests/integration/test_lua_api_docs.sh
-- (run through stallrun, so that load() is the host's Lua 5.4).
--
--   stallrun lua_api_docs.lua DOC OUTDIR
--
-- Prints one line per thing found, for the shell to check:
--   NOEXAMPLE <heading>       a ### entry with no ```lua block before the next heading
--   NOCOMPILE <where>: <why>  a ```lua block that does not compile (where: the
--                             document's line), or a fence other than lua / lua example
--   EXAMPLE <n>/<file> <args> a ```lua example block, written to OUTDIR/<n>/<file>; it is
--                             run as `stallrun <file> <args>`, the command line its
--                             header gives ("--   stallrun <file> <args>")
--   NOCOMMAND <line>          a ```lua example block without that header line
local ctx = ...
local files = require("stallmig.files")

local doc, outdir = ctx.args[1], ctx.args[2]
local lines = {}
for line in (files.read(doc) .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = line end

local heading, heading_has_example = nil, true
local function close_heading()
  if heading and not heading_has_example then print("NOEXAMPLE " .. heading) end
end

local examples, i = 0, 1
while i <= #lines do
  local line = lines[i]
  local info = line:match("^```(.*)$")
  if info then                           -- a fenced block: its lines are not headings
    local first, body = i, {}
    i = i + 1
    while i <= #lines and lines[i] ~= "```" do
      body[#body + 1] = lines[i]
      i = i + 1
    end
    local text = table.concat(body, "\n") .. "\n"
    if info == "lua" or info == "lua example" then
      heading_has_example = true
      -- first newlines, so that an error names the line in the document
      local chunk, why = load(string.rep("\n", first) .. text, "=docs/lua-api.md", "t")
      if not chunk then print("NOCOMPILE " .. why) end
    elseif info:match("^lua") then
      print(string.format("NOCOMPILE docs/lua-api.md:%d: unknown fence '%s' (lua or lua example)", first, info))
    end
    if info == "lua example" then
      local file, args = text:match("\n%-%-%s+stallrun ([%w_.-]+%.lua)([^\n]*)\n")
      if not file then
        print(string.format("NOCOMMAND %d", first))
      else
        examples = examples + 1
        local dir = string.format("%s/%02d", outdir, examples)
        files.mkdir(dir)
        files.create(dir .. "/" .. file, text)
        print(string.format("EXAMPLE %02d/%s%s", examples, file, args))
      end
    end
  elseif line:match("^#") then
    close_heading()
    heading = line:match("^### (.+)$")
    heading_has_example = heading == nil
  end
  i = i + 1
end
close_heading()
