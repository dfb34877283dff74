// The backoffice page and the JavaScript client in Debian's chromium against
// a real node (issue 23). Subtests run in order on one node; each view's
// screenshot is saved under BROWSER_OUTPUT.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Node, launchBrowser, openPage, screenshot, signIn, until } from "./harness.mjs";

let node;
let browser;
let page;

before(async () => {
  node = await Node.start({ env: {
    // A few failed calls open a circuit, and it stays open while looked at.
    KASSA_PROVIDERS_BREAKER_MIN_CALLS: "3",
    KASSA_PROVIDERS_BREAKER_OPEN_MS: "120000",
  } });
  browser = await launchBrowser();
  page = await openPage(browser);
  const r = await node.api("POST", "/v1/products", {
    sku: "lamp", name: "Lamp", price_minor: 1000, currency: "HUF", stock: 1000 });
  assert.equal(r.status, 201);
});

after(async () => {
  if (browser) await browser.close();
  if (node) await node.stop();
});

test("the page loads and signs in with no console errors", async () => {
  await page.goto(node.base + "/");
  assert.equal(await page.title(), "kassa backoffice");
  await screenshot(page, "signin");
  await page.fill("#key", "wrong");
  await page.click("#signin-form button");
  await page.waitForSelector("#signin-error:text('Unknown API key.')");
  await signIn(page, node);
  assert.match(await page.textContent("#who"), /admin/);
  // The failed sign-in's 401 is the one error the console may show.
  page.errors = page.errors.filter((e) => !e.includes("401"));
  assert.deepEqual(page.errors, []);
});

test("orders placed through the API appear live without a reload", async () => {
  await page.click("a[data-view=orders]");
  await page.waitForSelector("#orders-table");
  const marker = await page.evaluate(() => (window.notReloaded = true));
  const id = await node.order("tok_ok", { customer: "live-1" });
  await page.waitForSelector(`tr[data-order="${id}"]`, { timeout: 10000 });
  await page.waitForSelector(`tr[data-order="${id}"] .status.completed`, { timeout: 15000 });
  assert.equal(await page.evaluate(() => window.notReloaded), marker);
  // Search by customer.
  await node.order("tok_ok", { customer: "someone-else" });
  await page.fill("#customer-search", "live-1");
  await page.click("#search");
  await until(async () => (await page.$$("#orders-table tbody tr")).length === 1, 5000, "search");
  await screenshot(page, "orders");
});

test("an order's detail shows its steps and journal", async () => {
  const row = await page.$("#orders-table tbody tr");
  await row.click();
  await page.waitForSelector("#steps-table tr[data-step=charge_payment] .status.done");
  const steps = await page.$$eval("#steps-table tbody tr", (rows) => rows.map((r) => r.dataset.step));
  assert.deepEqual(steps, ["reserve_stock", "create_invoice", "charge_payment",
                           "create_shipment", "commit_stock", "notify_customer"]);
  assert.ok((await page.$$("#journal li")).length >= 14);
  await screenshot(page, "order-detail");
});

test("an operator cancels an order and refunds another from the page", async () => {
  // Waiting for 3-D Secure: cancellable.
  const waiting = await node.order("tok_3ds", { customer: "cancel-me" });
  await node.waitStatus(waiting, "waiting");
  const done = await node.order("tok_ok", { customer: "refund-me" });
  await node.waitStatus(done, "completed");
  await page.fill("#customer-search", "cancel-me");
  await page.click("#search");
  await page.click(`tr[data-order="${waiting}"]`);
  await page.waitForSelector(`#detail-id:text("${waiting}")`);
  await page.click("#cancel-order");
  await node.waitStatus(waiting, "cancelled");
  await page.fill("#customer-search", "refund-me");
  await page.click("#search");
  await page.click(`tr[data-order="${done}"]`);
  await page.waitForSelector(`#detail-id:text("${done}")`);
  // The detail re-renders on live events (the cancelled order's last ones
  // may still arrive): act once the page confirmed the request, and ask
  // again if a re-render swallowed the click (no refund was requested then).
  for (let tries = 0; ; ++tries) {
    await page.fill("#refund-amount", "300");
    await page.click("#refund-order");
    try {
      await page.waitForSelector("#toast:has-text('Refund of')", { timeout: 5000 });
      break;
    } catch (e) {
      const o = (await node.api("GET", "/v1/orders/" + done)).body;
      if (tries >= 2 || (o.refunds && o.refunds.length)) throw e;
    }
  }
  await until(async () => (await node.api("GET", "/v1/orders/" + done)).body.refunded_minor === 300,
              20000, "the refund");
  // Both audited, with the key that did them.
  const audit = await node.api("GET", "/v1/audit");
  const actions = audit.body.entries.map((e) => e.action + " " + e.path);
  assert.ok(actions.includes(`orders.cancel /v1/orders/${waiting}/cancel`), actions.join("\n"));
  assert.ok(actions.includes(`orders.refund /v1/orders/${done}/refunds`), actions.join("\n"));
  // The open detail follows the order live.
  await page.waitForSelector("#refunds", { timeout: 10000 });
  await screenshot(page, "order-refunded");
});

test("a dead job is revived from the page", async () => {
  const anyOrder = (await node.api("GET", "/v1/orders?limit=1")).body.orders[0].id;
  const id = node.sql(`INSERT INTO jobs (kind, key, payload, status, attempts, last_error)
    VALUES ('resume_saga', 'browser:dead', '{"saga_id":"${anyOrder}"}', 'dead', 20, 'gave up')
    RETURNING id`);
  await page.click("a[data-view=jobs]");
  await page.selectOption("#job-status", "dead");
  await page.waitForSelector(`tr[data-job="${id}"] .job-retry`);
  await screenshot(page, "jobs");
  await page.click(`tr[data-job="${id}"] .job-retry`);
  await until(() => node.sql(`SELECT status FROM jobs WHERE id = ${id}`) === "done",
              15000, "the revived job to run");
});

test("the JavaScript client resumes after its socket is cut without losing or repeating an event",
     async () => {
  await page.evaluate(async () => {
    const { KassaClient } = await import("/assets/kassa.js");
    window.seen = [];
    window.client = new KassaClient({
      url: "ws://" + location.host + "/v1/ws", token: sessionStorage.getItem("kassa.key"),
      topics: ["orders"], initialBackoffMs: 1500, maxBackoffMs: 1500 });
    window.client.on("event", (e) => window.seen.push(e.seq));
    window.client.connect();
  });
  await page.waitForFunction(() => window.client.state === "open");
  const first = await node.order("tok_ok", { customer: "ws-1" });
  await node.waitStatus(first, "completed");
  await page.waitForFunction(() => window.seen.length >= 14);
  // Cut: the socket closes under the client; orders go on meanwhile.
  await page.evaluate(() => window.client.socket.close());
  const during = await node.order("tok_ok", { customer: "ws-2" });
  await node.waitStatus(during, "completed");
  await page.waitForFunction(() => window.client.reconnects >= 1 && window.client.state === "open");
  const last = await node.order("tok_ok", { customer: "ws-3" });
  await node.waitStatus(last, "completed");
  const since = await page.evaluate(() => window.seen[0] - 1);
  const log = (await node.api("GET", `/v1/events?topic=orders&after=${since}&limit=1000`)).body;
  const expected = log.events.map((e) => e.seq);
  await until(async () => (await page.evaluate(() => window.seen.length)) >= expected.length,
              10000, "every event");
  const seen = await page.evaluate(() => window.seen);
  assert.deepEqual(seen, expected);
  assert.equal(new Set(seen).size, seen.length);
  await page.evaluate(() => window.client.close());
});

test("a read-only key sees but cannot act", async () => {
  const created = await node.api("POST", "/v1/keys", { name: "viewer", role: "read_only" });
  assert.equal(created.status, 201);
  const viewer = await openPage(browser);
  await signIn(viewer, node, created.body.key);
  assert.match(await viewer.textContent("#who"), /read_only/);
  await viewer.click("#orders-table tbody tr");
  await viewer.waitForSelector("#cancel-order");
  assert.equal(await viewer.isDisabled("#cancel-order"), true);
  assert.equal(await viewer.isDisabled("#refund-order"), true);
  await viewer.click("a[data-view=jobs]");
  await viewer.waitForSelector("#jobs-table");
  const buttons = await viewer.$$eval("#jobs-table button", (b) => b.map((x) => x.disabled));
  assert.ok(buttons.every((d) => d));
  const id = (await node.api("GET", "/v1/jobs?limit=1")).body.jobs[0].id;
  const refused = await node.api("POST", `/v1/jobs/${id}/retry`, undefined, { key: created.body.key });
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error.code, "forbidden");
  await screenshot(viewer, "read-only");
  assert.deepEqual(viewer.errors, []);
  await viewer.context().close();
});

test("a provider put into outage through the chaos endpoint shows as open", async () => {
  await page.click("a[data-view=providers]");
  await page.waitForSelector('tr[data-provider="sandbox-payment"] .status.closed');
  const chaos = await node.api("POST", "/v1/providers/sandbox-payment/chaos", { outage: true });
  assert.equal(chaos.status, 200);
  for (let i = 0; i < 6; ++i) await node.order("tok_ok", { customer: "outage" });
  await page.waitForSelector('tr[data-provider="sandbox-payment"] .status.open', { timeout: 30000 });
  await screenshot(page, "providers");
});

test("the API docs are rendered at /docs with every endpoint", async () => {
  const docs = await openPage(browser);
  await docs.goto(node.base + "/docs");
  await docs.waitForFunction(() => Number(document.body.dataset.endpoints) > 40);
  assert.ok(await docs.isVisible("text=POST /v1/orders"));
  await docs.fill("#filter", "jobs");
  await docs.waitForSelector("#operations section:not([hidden])");
  await screenshot(docs, "docs");
  assert.deepEqual(docs.errors, []);
  await docs.context().close();
});

test("the helpdesk view shows a ticket live and sends an operator's reply", async () => {
  let r = await node.api("POST", "/v1/customers", { id: "hd-1", name: "Hanna", email: "hd-1@example.test" });
  assert.equal(r.status, 201);
  await page.click("a[data-view=helpdesk]");
  await page.waitForSelector("#tickets-table");
  r = await node.api("POST", "/v1/tickets", { customer: "hd-1", subject: "Broken lamp", body: "It flickers." });
  assert.equal(r.status, 201);
  const id = r.body.id;
  await page.waitForSelector(`tr[data-ticket="${id}"]`, { timeout: 10000 }); // live
  await page.click(`tr[data-ticket="${id}"]`);
  await page.waitForSelector("#ticket-thread li");
  await page.fill("#ticket-reply", "We will send a new one.");
  await page.click("#send-reply");
  await page.waitForSelector("#ticket-thread li.operator");
  const t = await node.api("GET", "/v1/tickets/" + id);
  assert.equal(t.body.status, "pending");
  assert.equal(t.body.messages.length, 2);
  // The reply went to the customer through the contact service.
  await until(async () => (await node.api("GET", `/v1/messages/${id}:reply:2`)).body.status === "sent",
              10000, "the reply's e-mail to be sent");
  await page.fill("#customer-q", "hanna");
  await page.press("#customer-q", "Enter");
  await page.waitForSelector('#customer-results tr[data-customer="hd-1"]');
  await screenshot(page, "helpdesk");
});

test("every view renders, with a screenshot each, and the console stayed clean", async () => {
  for (const view of ["products", "subscriptions", "messages", "cluster", "events", "stats", "audit"]) {
    await page.click(`a[data-view=${view}]`);
    await page.waitForFunction((v) => document.getElementById("content").dataset.view === v &&
                                      document.getElementById("content").children.length > 0, view);
    if (view === "stats") await page.waitForSelector("#charts svg");
    await page.waitForTimeout(300);
    await screenshot(page, view);
  }
  assert.equal(await page.$$eval("#content .error", (e) => e.length), 0);
  assert.deepEqual(page.errors, []);
});
