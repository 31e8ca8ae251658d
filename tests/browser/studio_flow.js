#!/usr/bin/env node
// studio_flow.js — the studio in headless Chromium, as a user goes through it:
//
//   node tests/browser/studio_flow.js URL SHOTS_DIR dev|prod
//
// dev: open, browse a table, filter, page, follow a foreign key both ways,
// edit a row, open the migrations page. prod: the read-only banner, no
// edit form, and a forged change refused. A screenshot per step in
// SHOTS_DIR; any console error fails it.
"use strict";
const { Browser } = require("./cdp.js");
const path = require("path");

function check(cond, what) { if (!cond) throw new Error("expected: " + what); }

async function dev(b, shot) {
  check(await b.eval("!!document.querySelector('a[href*=\"table=customers\"]')"), "the tables page lists customers");
  await shot("01-tables");
  await b.navigateBy("document.querySelector('a[href*=\"table=customers\"]').click()");
  check(await b.eval("document.querySelectorAll('a.open').length") === 50, "50 rows on the first page");
  check(await b.eval("document.body.innerText.includes('rows: 120')"), "an exact count below exact_count_below");
  await shot("02-rows");
  await b.navigateBy(`(() => { const f = document.getElementById('filter');
    f.col.value = 'name'; f.op.value = 'contains'; f.v.value = 'customer 11'; f.submit(); })()`);
  const names = await b.eval("[...document.querySelectorAll('tbody td:nth-child(3)')].map(td => td.innerText)");
  check(names.length === 11 && names.every((n) => n.startsWith("customer 11")), "the filter keeps customer 11, 110-119: " + names);
  await shot("03-filter");
  await b.navigateBy("location.href = '/rows?schema=public&table=customers'");
  await b.navigateBy("document.getElementById('next').click()");
  check(await b.eval("document.querySelector('tbody td:nth-child(2)').innerText") === "51", "the next page starts at 51");
  await shot("04-next-page");
  await b.navigateBy("location.href = '/rows?schema=public&table=orders'");
  await b.navigateBy("document.querySelector('a.fk').click()");
  check(await b.eval("document.querySelectorAll('a.open').length") === 1, "the referenced customer, one row");
  await shot("05-fk-referenced");
  await b.navigateBy("document.querySelector('a.open').click()");
  await b.navigateBy("document.querySelector('a.fk-in').click()");
  check(await b.eval("document.querySelectorAll('a.open').length") >= 1, "the orders referencing it");
  await shot("06-fk-referencing");
  await b.navigateBy("location.href = '/row?schema=public&table=customers&k1=3'");
  await b.navigateBy(`(() => { const f = document.getElementById('edit');
    f.querySelector('textarea[name=v2]').value = 'edited in chromium'; document.getElementById('save').click(); })()`);
  check(await b.eval("document.getElementById('changed') && document.getElementById('changed').innerText.includes('Updated 1 row')"), "the update's report");
  check(await b.eval("document.getElementById('sql').innerText.startsWith('UPDATE')"), "the update's SQL shown");
  await shot("07-edited");
  await b.navigateBy("document.querySelector('header a[href=\"/migrations\"]').click()");
  check(await b.eval("document.querySelector('#matrix td') !== null"), "the migrations matrix");
  await shot("08-migrations");
  await b.navigateBy("document.querySelector('header a[href=\"/schema\"]').click()");
  check(await b.eval("document.querySelectorAll('svg.schema line.fk').length") >= 1, "a foreign key drawn in the schema");
  await shot("09-schema");
}

async function prod(b, shot) {
  await b.navigateBy("location.href = '/row?schema=public&table=customers&k1=2'");
  check(await b.eval("!!document.getElementById('read-only') && !document.getElementById('edit')"), "read-only, no edit form");
  await shot("01-read-only");
  // a forged change, with the page's own CSRF token: the host's read-only connection refuses it
  await b.navigateBy(`(() => { const f = document.createElement('form'); f.method = 'post'; f.action = '/row/update';
    for (const [k, v] of Object.entries({ csrf: document.querySelector('meta[name=csrf]').content, schema: 'public',
      table: 'customers', k1: '2', v2: 'written from the browser' })) {
      const i = document.createElement('input'); i.name = k; i.value = v; f.appendChild(i); }
    document.body.appendChild(f); f.submit(); })()`);
  check(await b.eval("document.getElementById('error').innerText.includes('read-only')"), "the refusal says read-only");
  await shot("02-refused");
}

async function main() {
  const [url, dir, mode] = process.argv.slice(2);
  const b = await Browser.launch();
  let failed = null;
  let n = 0;
  const shot = async (name) => { n++; await b.screenshot(path.join(dir, mode + "-" + name + ".png")); };
  try {
    await b.goto(url);
    await (mode === "prod" ? prod : dev)(b, shot);
  } catch (e) {
    failed = e;
    await b.screenshot(path.join(dir, mode + "-failed.png")).catch(() => {});
  } finally {
    await b.close();
  }
  // the refused change answers 403: Chromium logs that status as an error; it is the point here
  const errors = b.errors.filter((e) => !(mode === "prod" && /status of 403/.test(e)));
  for (const e of errors) console.log("console error: " + e);
  if (failed) { console.log("studio_flow " + mode + ": " + failed.message); process.exit(1); }
  console.log("studio_flow " + mode + ": ok, " + n + " screenshots in " + dir);
  process.exit(errors.length ? 1 : 0);
}
main().catch((e) => { console.error("studio_flow.js: " + e.message); process.exit(1); });
