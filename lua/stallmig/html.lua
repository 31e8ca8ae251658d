-- stallmig.html — the pieces every HTML report is made of: escaping (with
-- secrets redacted) and one self-contained page (inline CSS, no script, no
-- external resource; a Content-Security-Policy that forbids loading any).
--
--   local h = html.escape                      -- h(name) in text and in "attributes"
--   local page = html.page("verify: staging", body)
local sys = require("stallmig.sys")

local html = {}

local ENTITY = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }

-- html.escape(value) -> text safe inside an element or a quoted attribute:
-- nil is "", passwords (URL and key=value forms, the INI's secrets) are
-- redacted first, then & < > " ' become entities and other control
-- characters but newline and tab are dropped.
function html.escape(value)
  if value == nil then return "" end
  local text = sys.redact(tostring(value))
  if not text:find("[%c&<>\"'\127]") then return text end   -- the common case: nothing to change
  return (text:gsub("[\0-\8\11\12\14-\31\127]", ""):gsub("[&<>\"']", ENTITY))
end

local CSS = [[
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px}h3{font-size:15px;margin:18px 0 6px}
.meta{color:#5a6474;margin:0 0 16px}
.verdict{padding:14px 18px;border-radius:6px;font-size:16px;font-weight:600;margin:12px 0}
.pass{background:#e3f5e8;border-left:6px solid #1f883d}.fail{background:#fde8e8;border-left:6px solid #cf222e}
section.migration{background:#fff;border:1px solid #d9dee5;border-radius:6px;padding:4px 18px 14px;margin:18px 0}
table{border-collapse:collapse;width:100%;margin:6px 0 10px;background:#fff}
th,td{border:1px solid #d9dee5;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600}
table.statements td:nth-child(2){width:45%}
pre{background:#f0f2f5;padding:8px;overflow:auto;white-space:pre-wrap;word-break:break-word;margin:4px 0}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.sev-error,.st-failed,.st-modified,.st-missing,.st-unreachable{color:#a40e26;font-weight:600}
.sev-warning,.st-pending{color:#8a5a00;font-weight:600}
.sev-suppressed,.muted{color:#6e7781}
.st-applied{color:#1a7f37}
.lock-8{background:#fde8e8}.lock-7,.lock-6,.lock-5{background:#fff4d6}
ul{margin:4px 0 8px;padding-left:22px}
small{color:#6e7781}
]]

-- html.table(headers, rows [, class]) -> a <table>: headers escaped, rows
-- lists of cells that are HTML already (built from escaped parts).
function html.table(headers, rows, class)
  local out = { "<table" .. (class and (" class=\"" .. html.escape(class) .. "\"") or "") .. "><tr>" }
  for _, name in ipairs(headers) do out[#out + 1] = "<th>" .. html.escape(name) .. "</th>" end
  out[#out + 1] = "</tr>"
  for _, row in ipairs(rows) do out[#out + 1] = "<tr><td>" .. table.concat(row, "</td><td>") .. "</td></tr>" end
  out[#out + 1] = "</table>"
  return table.concat(out, "\n")
end

-- html.list(items) -> a <ul> of items that are HTML already ("" for none).
function html.list(items)
  if #items == 0 then return "" end
  return "<ul><li>" .. table.concat(items, "</li>\n<li>") .. "</li></ul>"
end

-- html.page(title, body) -> one whole document: the title escaped, body
-- (HTML already built from escaped parts) as it is.
function html.page(title, body)
  return table.concat({
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n",
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
    "<title>", html.escape(title), "</title>\n<style>\n", CSS, "</style>\n</head>\n<body>\n<main>\n",
    body, "\n</main>\n</body>\n</html>\n",
  })
end

return html
