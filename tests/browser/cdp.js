// cdp.js — headless Chromium driven over the DevTools protocol through a
// pipe (--remote-debugging-pipe: no port, no WebSocket, no npm package).
// Used by open.js (any URL: a screenshot and its console errors) and by
// the studio's browser tests (studio_flow.js).
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

class Browser {
  // Browser.launch({offline}) -> a browser with one page attached.
  static async launch(opts = {}) {
    const b = new Browser();
    b.profile = fs.mkdtempSync(path.join(os.tmpdir(), "stallmig-chromium-"));
    const args = ["--headless=new", "--remote-debugging-pipe", "--no-first-run", "--no-default-browser-check",
      "--disable-gpu", "--disable-dev-shm-usage", "--disable-extensions", "--disable-background-networking",
      "--disable-sync", "--disable-component-update", "--user-data-dir=" + b.profile,
      "--window-size=1280,900", "about:blank"];
    if (process.getuid && process.getuid() === 0) args.unshift("--no-sandbox");   // CI runs as root
    if (opts.offline) args.unshift("--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>");
    b.proc = spawn(CHROMIUM, args, { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] });
    b.stderr = "";
    b.proc.stderr.on("data", (d) => { b.stderr += d; });
    b.out = b.proc.stdio[3];
    b.nextId = 1;
    b.pending = new Map();
    b.listeners = [];
    b.errors = [];
    let buf = Buffer.alloc(0);
    b.proc.stdio[4].on("data", (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      let end;
      while ((end = buf.indexOf(0)) >= 0) {
        const msg = JSON.parse(buf.subarray(0, end).toString("utf8"));
        buf = buf.subarray(end + 1);
        b.dispatch(msg);
      }
    });
    b.exited = new Promise((resolve) => b.proc.on("exit", resolve));
    const { targetInfos } = await b.send("Target.getTargets");
    const page = targetInfos.find((t) => t.type === "page");
    if (!page) throw new Error("chromium opened no page");
    b.session = (await b.send("Target.attachToTarget", { targetId: page.targetId, flatten: true })).sessionId;
    for (const domain of ["Page", "Runtime", "Log"]) await b.page(domain + ".enable");
    if (opts.offline) await b.page("Network.enable"), await b.page("Network.emulateNetworkConditions",
      { offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    b.on((m) => {
      const p = m.params || {};
      if (m.method === "Runtime.exceptionThrown") b.errors.push("exception: " + (p.exceptionDetails.exception?.description || p.exceptionDetails.text));
      if (m.method === "Runtime.consoleAPICalled" && (p.type === "error" || p.type === "assert"))
        b.errors.push("console." + p.type + ": " + p.args.map((a) => a.value ?? a.description).join(" "));
      if (m.method === "Log.entryAdded" && p.entry.level === "error") b.errors.push(p.entry.source + ": " + p.entry.text + (p.entry.url ? " (" + p.entry.url + ")" : ""));
      if (m.method === "Page.javascriptDialogOpening") b.page("Page.handleJavaScriptDialog", { accept: true });
    });
    return b;
  }

  dispatch(msg) {
    if (msg.id && this.pending.has(msg.id)) {
      const { resolve, reject, method } = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.error) reject(new Error(method + ": " + msg.error.message));
      else resolve(msg.result);
      return;
    }
    for (const l of this.listeners.slice()) l(msg);
  }

  on(fn) { this.listeners.push(fn); }

  send(method, params = {}, sessionId) {
    const id = this.nextId++;
    const msg = { id, method, params };
    if (sessionId) msg.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.out.write(JSON.stringify(msg) + "\0");
    });
  }

  page(method, params) { return this.send(method, params, this.session); }

  waitFor(method, ms = 10000) {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("timed out waiting for " + method)), ms);
      const l = (m) => {
        if (m.method === method && m.sessionId === this.session) {
          clearTimeout(t);
          this.listeners.splice(this.listeners.indexOf(l), 1);
          resolve(m.params);
        }
      };
      this.on(l);
    });
  }

  // Runs fn (an expression) in the page and waits for the load it starts.
  async navigateBy(expression) {
    const loaded = this.waitFor("Page.loadEventFired");
    await this.eval(expression);
    await loaded;
  }

  async goto(url) {
    const loaded = this.waitFor("Page.loadEventFired");
    const r = await this.page("Page.navigate", { url });
    if (r.errorText) throw new Error("cannot open " + url + ": " + r.errorText);
    await loaded;
  }

  async eval(expression) {
    const r = await this.page("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error("in the page: " + (r.exceptionDetails.exception?.description || r.exceptionDetails.text));
    return r.result.value;
  }

  async screenshot(file) {
    const { data } = await this.page("Page.captureScreenshot", { format: "png", captureBeyondViewport: false });
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, Buffer.from(data, "base64"));
  }

  async close() {
    try { await Promise.race([this.send("Browser.close"), new Promise((r) => setTimeout(r, 2000))]); } catch (e) { /* gone */ }
    const killer = setTimeout(() => this.proc.kill("SIGKILL"), 3000);
    await this.exited;
    clearTimeout(killer);
    fs.rmSync(this.profile, { recursive: true, force: true });
  }
}

module.exports = { Browser };
