// The member area (issue 24): one customer's orders, subscriptions,
// invoices and support tickets, live through the node's WebSocket on the
// customer's own topic. It signs in with a customer token (the shop's link
// carries it as #token=…; POST /v1/customers/{id}/token issues it) and
// calls only the member area's routes, which keep to that customer's data.

import { KassaClient } from "/assets/kassa.js";

const tokenStore = "kassa.member.token";
let customer = "";
let openTicket = "";

async function api(method, path, body) {
  const init = { method, headers: {
    Authorization: "Bearer " + sessionStorage.getItem(tokenStore) } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  const text = await r.text();
  const json = text ? JSON.parse(text) : null;
  if (!r.ok) {
    const e = (json && json.error) || {};
    throw { status: r.status, message: e.message || text };
  }
  return json;
}

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v);
  }
  for (const c of children.flat())
    if (c !== undefined && c !== null)
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function money(minor, currency) {
  return (minor / 100).toFixed(2) + " " + (currency || "");
}

function toast(text) {
  const t = document.getElementById("toast");
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.hidden = true), 4000);
}

function fill(id, rows) {
  const body = document.querySelector(`#${id} tbody`);
  body.replaceChildren(...rows);
}

const invoices = { orders: [], subscriptions: [] };

function drawInvoices() {
  fill("invoices", [...invoices.orders, ...invoices.subscriptions]);
}

async function loadOrders() {
  const { orders } = await api("GET", "/v1/orders?order=desc&limit=50");
  const full = await Promise.all(orders.map((o) => api("GET", "/v1/orders/" + o.id)));
  fill("orders", full.map((o) => h("tr", { "data-order": o.id },
    h("td", {}, o.id),
    h("td", {}, h("span", { class: "status " + o.status }, o.status)),
    h("td", {}, money(o.total_minor, o.currency)),
    h("td", {}, (o.invoice && (o.invoice.number || o.invoice.id)) || ""),
    h("td", {}, (o.created_at || "").slice(0, 16).replace("T", " ")))));
  const select = document.getElementById("ticket-order");
  const chosen = select.value;
  select.replaceChildren(h("option", { value: "" }, "(no order)"),
    ...full.map((o) => h("option", { value: o.id }, o.id)));
  select.value = chosen;
  invoices.orders = full.filter((o) => o.invoice && o.invoice.id).map((o) =>
    h("tr", {}, h("td", {}, o.invoice.number || o.invoice.id), h("td", {}, o.id),
      h("td", {}, money(o.total_minor, o.currency)), h("td", {}, o.status)));
  drawInvoices();
}

async function loadSubscriptions() {
  const { subscriptions } = await api("GET", "/v1/subscriptions?limit=50");
  const full = await Promise.all(subscriptions.map((s) => api("GET", "/v1/subscriptions/" + s.id)));
  fill("subscriptions", full.map((s) => h("tr", { "data-subscription": s.id },
    h("td", {}, s.plan && (s.plan.name || s.plan.id || s.plan)),
    h("td", {}, h("span", { class: "status " + s.status }, s.status)),
    h("td", {}, (s.current_period_end || "").slice(0, 10)),
    h("td", {}, s.status === "canceled" ? "" : h("button", { class: "secondary cancel",
      onclick: async () => {
        if (!confirm("Cancel this subscription?")) return;
        try {
          await api("POST", "/v1/subscriptions/" + s.id + "/cancel");
          toast("Canceled.");
          loadSubscriptions();
        } catch (e) {
          toast(e.message);
        }
      } }, "Cancel")))));
  invoices.subscriptions = full.flatMap((s) => (s.invoices || []).map((i) =>
    h("tr", {}, h("td", {}, i.number || i.id), h("td", {}, s.id),
      h("td", {}, money(i.amount_minor, i.currency || (s.plan && s.plan.currency))),
      h("td", {}, i.status))));
  drawInvoices();
}

async function loadTickets() {
  const { tickets } = await api("GET", "/v1/tickets?limit=50");
  fill("tickets", tickets.map((t) => h("tr", { "data-ticket": t.id, class: "clickable",
    onclick: () => showTicket(t.id) },
    h("td", {}, t.subject),
    h("td", {}, h("span", { class: "status " + t.status }, t.status)),
    h("td", {}, (t.updated_at || "").slice(0, 16).replace("T", " ")))));
  if (openTicket) await showTicket(openTicket);
}

async function showTicket(id) {
  openTicket = id;
  const t = await api("GET", "/v1/tickets/" + id);
  document.getElementById("thread").hidden = false;
  document.getElementById("thread-subject").textContent = t.subject + " (" + t.status + ")";
  document.getElementById("thread-messages").replaceChildren(...t.messages.map((m) =>
    h("li", { class: "message " + m.author, "data-seq": m.seq },
      h("b", {}, m.author === "customer" ? "You" : "Support"), ": ", m.body)));
}

const pending = new Set();
function refreshSoon(what) {
  if (pending.has(what)) return;
  pending.add(what);
  setTimeout(() => {
    pending.delete(what);
    ({ orders: loadOrders, subscriptions: loadSubscriptions, tickets: loadTickets })[what]()
      .catch((e) => toast(e.message));
  }, 150);
}

function live(token) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const client = new KassaClient({ url: `${scheme}//${location.host}/v1/ws`, token,
                                   topics: ["customer:" + customer] });
  const badge = document.getElementById("live");
  client.on("state", (s) => {
    badge.textContent = s === "open" ? "live" : "offline";
    badge.classList.toggle("open", s === "open");
  });
  client.on("event", (e) => {
    if (e.event.startsWith("ticket.")) refreshSoon("tickets");
    else if (e.event.startsWith("subscription.") || e.topic.startsWith("subscription:")) refreshSoon("subscriptions");
    else refreshSoon("orders");
  });
  client.connect();
}

async function start(token) {
  sessionStorage.setItem(tokenStore, token);
  const who = await api("GET", "/v1/whoami");
  if (!who.customer) throw { message: "This is not a customer's access token." };
  customer = who.customer;
  const me = await api("GET", "/v1/customers/" + encodeURIComponent(customer));
  document.getElementById("who").textContent = me.name || customer;
  document.getElementById("signin").hidden = true;
  document.getElementById("member").hidden = false;
  await Promise.all([loadOrders(), loadSubscriptions(), loadTickets()]);
  live(token);
}

document.getElementById("ticket-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const body = { subject: document.getElementById("ticket-subject").value,
                 body: document.getElementById("ticket-body").value };
  const order = document.getElementById("ticket-order").value;
  if (order) body.order = order;
  try {
    const t = await api("POST", "/v1/tickets", body);
    ev.target.reset();
    toast("Ticket opened.");
    await loadTickets();
    await showTicket(t.id);
  } catch (e) {
    toast(e.message);
  }
});

document.getElementById("reply-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const input = document.getElementById("reply-body");
  try {
    await api("POST", `/v1/tickets/${openTicket}/messages`, { body: input.value });
    input.value = "";
    await loadTickets(); // the list's status and the thread
  } catch (e) {
    toast(e.message);
  }
});

document.getElementById("signin-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    await start(document.getElementById("token").value);
  } catch (e) {
    sessionStorage.removeItem(tokenStore);
    document.getElementById("signin-error").textContent =
      e.status === 401 ? "This access token is not valid (any more)." : e.message;
  }
});

// The shop's link carries the token in the fragment (never sent to a
// server); it is kept for this tab only.
const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromLink) history.replaceState(null, "", location.pathname);
const token = fromLink || sessionStorage.getItem(tokenStore);
if (token) start(token).catch(() => (document.getElementById("signin").hidden = false));
else document.getElementById("signin").hidden = false;
