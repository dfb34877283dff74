// The backoffice page's shell: sign-in with an API key, the API client, the
// live connection (the node's own WebSocket through clients/js/kassa.js) and
// the view switcher. The views are in views.js.

import { KassaClient } from "/assets/kassa.js";
import { views } from "/assets/views.js";

const keyStore = "kassa.key";

/** Calls the API with the signed-in key; throws {status, code, message}. */
export async function api(method, path, body, headers = {}) {
  const init = { method, headers: { ...headers,
    Authorization: "Bearer " + sessionStorage.getItem(keyStore) } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  const text = await r.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!r.ok) {
    const e = (json && json.error) || {};
    throw { status: r.status, code: e.code || "http_" + r.status,
            message: e.message || text };
  }
  return json;
}

/** Shows a short message (an action's outcome) at the page's corner. */
export function toast(text) {
  const t = document.getElementById("toast");
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.hidden = true), 4000);
}

/** Builds an element: h("td", {class: "x", onclick: f}, "text", child). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function money(minor, currency) {
  if (minor === undefined || minor === null) return "";
  return (minor / 100).toFixed(2) + " " + (currency || "");
}

export function badge(status) {
  return h("span", { class: "status " + status, "data-status": status },
           status);
}

// The page's state: who is signed in, what the live feed sees.
export const session = {
  who: null,
  /** Whether the signed-in key may take operator actions. */
  canOperate() {
    return this.who && (this.who.role === "operator" || this.who.role === "admin");
  },
  /** Whether it may send a shop's commands (cancel, refund). */
  canCommand() {
    return this.who && this.who.role !== "read_only";
  },
  client: null,
  listeners: new Set(),
};

/** Listens to every live event while the current view is shown. */
export function onLive(fn) {
  session.listeners.add(fn);
  return () => session.listeners.delete(fn);
}

let current = null; // the shown view's cleanup

async function show(name) {
  if (!views[name]) name = "orders";
  for (const a of document.querySelectorAll("#nav a"))
    a.classList.toggle("active", a.dataset.view === name);
  if (current) current();
  session.listeners.clear();
  const root = document.getElementById("content");
  root.replaceChildren();
  root.dataset.view = name;
  try {
    current = (await views[name](root)) || null;
  } catch (e) {
    root.append(h("p", { class: "error" }, "Could not load: " + (e.message || e.code || e)));
  }
}

function startLive(key) {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const client = new KassaClient({
    url: scheme + location.host + "/v1/ws",
    token: key,
    topics: ["orders", "providers", "subscriptions", "tickets"],
  });
  const live = document.getElementById("live");
  client.on("state", (s) => {
    live.textContent = s === "open" ? "live" : s;
    live.classList.toggle("open", s === "open");
  });
  client.on("event", (e) => {
    for (const fn of session.listeners) fn(e);
  });
  client.connect();
  session.client = client;
}

async function signIn(key) {
  sessionStorage.setItem(keyStore, key);
  try {
    session.who = await api("GET", "/v1/whoami");
  } catch (e) {
    sessionStorage.removeItem(keyStore);
    throw e;
  }
  document.getElementById("signin").hidden = true;
  document.getElementById("nav").hidden = false;
  document.getElementById("content").hidden = false;
  document.getElementById("signout").hidden = false;
  document.getElementById("who").textContent =
    session.who.name + " (" + session.who.role + ")";
  document.body.dataset.role = session.who.role;
  startLive(key);
  await show(location.hash.slice(1));
}

function signOut() {
  sessionStorage.removeItem(keyStore);
  if (session.client) session.client.close();
  location.hash = "";
  location.reload();
}

window.addEventListener("hashchange", () => {
  if (session.who) show(location.hash.slice(1));
});

document.getElementById("signin-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const err = document.getElementById("signin-error");
  err.textContent = "";
  try {
    await signIn(document.getElementById("key").value.trim());
  } catch (e) {
    err.textContent = e.status === 401 ? "Unknown API key." : (e.message || "Sign-in failed.");
  }
});
document.getElementById("signout").addEventListener("click", signOut);

const saved = sessionStorage.getItem(keyStore);
if (saved) signIn(saved).catch(() => {});
