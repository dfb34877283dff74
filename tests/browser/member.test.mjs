// The member area (issue 24) in Debian's chromium against a real node: a
// customer signs in with the link's token, sees their orders (and no one
// else's) and watches one complete without a reload, opens a ticket from
// the page and sees the operator's reply arrive, and cancels a
// subscription. Screenshots under BROWSER_OUTPUT.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Node, launchBrowser, openPage, screenshot, until } from "./harness.mjs";

let node;
let browser;
let page;
let token;

before(async () => {
  node = await Node.start({ env: { KASSA_WS_CUSTOMER_TOKEN_SECRET: "member-secret" } });
  browser = await launchBrowser();
  page = await openPage(browser);
  for (const [path, body] of [
    ["/v1/products", { sku: "lamp", name: "Lamp", price_minor: 1000, currency: "HUF", stock: 1000 }],
    ["/v1/customers", { id: "m-anna", name: "Anna", email: "m-anna@example.test", locale: "hu" }],
    ["/v1/plans", { id: "monthly", name: "Monthly box", amount_minor: 2990, currency: "EUR", interval: "month" }],
  ]) {
    const r = await node.api("POST", path, body);
    assert.equal(r.status, 201, JSON.stringify(r));
  }
  const t = await node.api("POST", "/v1/customers/m-anna/token");
  assert.equal(t.status, 201);
  token = t.body.token;
});

after(async () => {
  if (browser) await browser.close();
  if (node) await node.stop();
});

test("the link's token signs the customer in; only their orders show", async () => {
  const mine = await node.order("tok_ok", { customer: "m-anna" });
  const theirs = await node.order("tok_ok", { customer: "someone-else" });
  await node.waitStatus(mine, "completed");
  await page.goto(node.base + "/member#token=" + token);
  await page.waitForSelector("#member:not([hidden])");
  assert.equal(await page.textContent("#who"), "Anna");
  await page.waitForSelector(`tr[data-order="${mine}"] .status.completed`);
  assert.equal(await page.$(`tr[data-order="${theirs}"]`), null);
  // The token left the address bar.
  assert.equal(new URL(page.url()).hash, "");
  await page.waitForSelector("#live.open");
  assert.deepEqual(page.errors, []);
});

test("a new order appears and completes live, without a reload", async () => {
  const marker = await page.evaluate(() => (window.notReloaded = Math.random()));
  // Slow payments: the page sees it before it completes.
  await node.api("POST", "/v1/providers/sandbox-payment/chaos", { latency_ms: 1500 });
  const id = await node.order("tok_ok", { customer: "m-anna" });
  await page.waitForSelector(`tr[data-order="${id}"]`, { timeout: 10000 });
  const first = await page.textContent(`tr[data-order="${id}"] .status`);
  assert.notEqual(first, "completed");
  await page.waitForSelector(`tr[data-order="${id}"] .status.completed`, { timeout: 20000 });
  await node.api("POST", "/v1/providers/sandbox-payment/chaos", { latency_ms: 0 });
  assert.equal(await page.evaluate(() => window.notReloaded), marker);
  await page.waitForSelector(`#invoices tbody tr`);
  await screenshot(page, "member-orders");
});

test("the customer opens a ticket and sees the operator's reply arrive", async () => {
  await page.fill("#ticket-subject", "Where is my lamp?");
  await page.fill("#ticket-body", "It has not arrived yet.");
  await page.click("#ticket-form button");
  const row = await page.waitForSelector("#tickets tbody tr");
  const ticket = await row.getAttribute("data-ticket");
  await page.waitForSelector("#thread-messages li.customer");
  const listed = await node.api("GET", "/v1/tickets?customer=m-anna");
  assert.equal(listed.body.tickets.length, 1);
  assert.equal(listed.body.tickets[0].id, ticket);
  // The operator answers through the API; the page shows it without a reload.
  const r = await node.api("POST", `/v1/tickets/${ticket}/messages`,
                           { body: "It ships today." });
  assert.equal(r.status, 200);
  await page.waitForSelector("#thread-messages li.operator:has-text('It ships today.')",
                             { timeout: 10000 });
  await page.waitForSelector(`tr[data-ticket="${ticket}"] .status.pending`);
  // The customer answers from the page.
  await page.fill("#reply-body", "Thank you!");
  await page.click("#reply-form button");
  await page.waitForSelector("#thread-messages li.customer:has-text('Thank you!')");
  const t = await node.api("GET", "/v1/tickets/" + ticket);
  assert.equal(t.body.status, "open");
  assert.equal(t.body.messages.at(-1).channel, "web");
  await screenshot(page, "member-ticket");
});

test("the customer cancels their subscription from the page", async () => {
  const r = await node.api("POST", "/v1/subscriptions", {
    customer: { id: "m-anna", email: "m-anna@example.test" }, plan: "monthly",
    payment: { provider: "sandbox", token: "tok_ok" } });
  assert.equal(r.status, 201);
  const id = r.body.id;
  await page.reload();
  await page.waitForSelector(`tr[data-subscription="${id}"] button.cancel`);
  await page.click(`tr[data-subscription="${id}"] button.cancel`);
  await until(async () => (await node.api("GET", "/v1/subscriptions/" + id)).body.status === "canceled",
              10000, "the subscription to be canceled");
  assert.deepEqual(page.errors, []);
});
