#!/usr/bin/env node
// open.js — opens a URL in headless Chromium, saves a screenshot and
// reports console errors (exit 1 when there is one):
//
//   node tests/browser/open.js URL SCREENSHOT.png [--offline]
//
// --offline (the default for file:// URLs) disables the network: a page
// that fetches anything shows it as an error. For the reports' HTML files
// (verify --format html) and any page a test wants seen.
"use strict";
const { Browser } = require("./cdp.js");

async function main() {
  const [url, shot, ...flags] = process.argv.slice(2);
  if (!url || !shot) {
    console.error("usage: open.js URL SCREENSHOT.png [--offline]");
    process.exit(2);
  }
  const offline = flags.includes("--offline") || url.startsWith("file:");
  const b = await Browser.launch({ offline });
  try {
    await b.goto(url);
    await new Promise((r) => setTimeout(r, 200));   // late console errors
    await b.screenshot(shot);
    const title = await b.eval("document.title");
    console.log("opened " + url + " (" + JSON.stringify(title) + "), screenshot " + shot);
  } finally {
    await b.close();
  }
  for (const e of b.errors) console.log("console error: " + e);
  process.exit(b.errors.length ? 1 : 0);
}
main().catch((e) => { console.error("open.js: " + e.message); process.exit(1); });
