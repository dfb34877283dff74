// What the browser tests stand on: a database of their own on the test
// PostgreSQL (TEST_PG_URL), a real kassa node (KASSA_BIN) on a free loopback
// port, Debian's chromium driven by playwright-core, and a small API client.

import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, openSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { chromium } from "playwright-core";

export const outputDir = process.env.BROWSER_OUTPUT || path.resolve("browser-output");
mkdirSync(outputDir, { recursive: true });

function psql(url, sql) {
  return execFileSync("psql", [url, "-qAtc", sql], { encoding: "utf8" }).trim();
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` (async, truthy when done) until it holds or `ms` pass. */
export async function until(check, ms = 15000, what = "condition") {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await check();
    if (last) return last;
    await sleep(100);
  }
  throw new Error("timed out waiting for " + what);
}

export class Node {
  static async start({ env = {} } = {}) {
    const admin = process.env.TEST_PG_URL;
    if (!admin) throw new Error("TEST_PG_URL is not set (scripts/test sets it)");
    const bin = process.env.KASSA_BIN;
    if (!bin) throw new Error("KASSA_BIN is not set (ctest sets it)");
    const n = new Node();
    n.dbName = "kassa_browser_" + process.pid + "_" + Date.now();
    psql(admin, `CREATE DATABASE ${n.dbName}`);
    const u = new URL(admin);
    u.pathname = "/" + n.dbName;
    n.admin = admin;
    n.dbUrl = u.toString();
    n.port = await freePort();
    n.key = "test-key";
    n.logPath = path.join(outputDir, "node-" + n.port + ".log");
    const log = openSync(n.logPath, "w");
    n.proc = spawn(bin, ["serve", "--http-port", String(n.port)], {
      env: { PATH: process.env.PATH, KASSA_DATABASE_URL: n.dbUrl,
             KASSA_API_KEYS: n.key, KASSA_HTTP_KEY_REFRESH_MS: "200", ...env },
      stdio: ["ignore", log, log],
    });
    n.base = "http://127.0.0.1:" + n.port;
    await until(async () => {
      try {
        return (await fetch(n.base + "/healthz")).ok;
      } catch {
        return false;
      }
    }, 20000, "the node to start");
    // A fresh node takes its shards in rounds: wait until it holds them all.
    await until(async () => (await fetch(n.base + "/readyz")).ok, 20000, "readyz");
    return n;
  }

  sql(text) {
    return psql(this.dbUrl, text);
  }

  async api(method, p, body, { key = this.key, headers = {} } = {}) {
    const init = { method, headers: { Authorization: "Bearer " + key, ...headers } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const r = await fetch(this.base + p, init);
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  }

  async order(token, { sku = "lamp", quantity = 1, customer = "c1" } = {}) {
    const r = await this.api("POST", "/v1/orders", {
      customer: { id: customer, email: customer + "@example.test" },
      items: [{ sku, quantity }],
      payment: { provider: "sandbox", token },
      shipping: { provider: "sandbox", address: { country: "HU" } },
    });
    if (r.status !== 202) throw new Error("order refused: " + JSON.stringify(r));
    return r.body.id;
  }

  async waitStatus(id, status, ms = 20000) {
    return until(async () => {
      const o = await this.api("GET", "/v1/orders/" + id);
      return o.body.status === status ? o.body : null;
    }, ms, `order ${id} to be ${status}`);
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      this.proc.kill("SIGTERM");
      await new Promise((r) => this.proc.once("exit", r));
    }
    try {
      psql(this.admin, `DROP DATABASE IF EXISTS ${this.dbName} WITH (FORCE)`);
    } catch {
      // left for the next run's cleanup; never fails a test
    }
  }

  log() {
    return readFileSync(this.logPath, "utf8");
  }
}

/** Headless Debian chromium with the flags this machine needs. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update",
           "--disable-sync"],
  });
}

/** A page that records console errors and failed requests. */
export async function openPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.errors = [];
  page.on("console", (m) => {
    if (m.type() === "error") page.errors.push(m.text());
  });
  page.on("pageerror", (e) => page.errors.push(String(e)));
  page.on("dialog", (d) => d.accept());
  return page;
}

export async function signIn(page, node, key = node.key) {
  await page.goto(node.base + "/");
  await page.fill("#key", key);
  await page.click("#signin-form button");
  await page.waitForSelector("#nav:not([hidden])");
  await page.waitForSelector("#live.open");
}

export async function screenshot(page, name) {
  await page.screenshot({ path: path.join(outputDir, name + ".png"), fullPage: true });
}
