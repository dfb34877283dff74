// The backoffice's views. Each renders into `root`, keeps itself current
// from the live feed (onLive) and returns its cleanup. Every action goes
// through the same API as any client (and is audited by the node).

import { api, badge, h, money, onLive, session, toast } from "/assets/app.js";
import { barChart } from "/assets/charts.js";

const orderStatuses = ["pending", "running", "waiting", "awaiting_capture", "refunding",
  "compensating", "completed", "cancelled", "failed"];

/** Calls `fn` at most once per `ms` (live events come in bursts). */
function debounce(fn, ms = 300) {
  let timer = null;
  return () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      fn();
    }, ms);
  };
}

function table(headers, rows, attrs = {}) {
  return h("table", attrs,
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))),
    h("tbody", {}, rows));
}

/** A button for an action the key may or may not take. */
function action(label, allowed, run, attrs = {}) {
  return h("button", {
    ...attrs,
    disabled: !allowed,
    title: allowed ? label : "your key's role may not do this",
    onclick: async (ev) => {
      ev.stopPropagation();
      try {
        await run();
      } catch (e) {
        toast(label + " failed: " + (e.message || e.code));
      }
    },
  }, label);
}

// -- orders --

async function orders(root) {
  const state = { status: "", customer: "", cursors: [""], selected: null, loads: 0 };
  const list = h("div", { id: "orders-list" });
  const detail = h("div", { id: "order-detail", class: "panel" },
                   h("p", { class: "muted" }, "Pick an order to see its steps."));
  const counts = h("div", { class: "cards", id: "order-counts" });
  const statusSelect = h("select", { id: "status-filter" },
    h("option", { value: "" }, "any status"),
    orderStatuses.map((s) => h("option", { value: s }, s)));
  const customer = h("input", { id: "customer-search", placeholder: "customer id" });
  const search = () => {
    state.status = statusSelect.value;
    state.customer = customer.value.trim();
    state.cursors = [""];
    load();
  };
  statusSelect.addEventListener("change", search);
  customer.addEventListener("keydown", (e) => e.key === "Enter" && search());
  const older = h("button", { class: "secondary", id: "older" }, "Older");
  const newer = h("button", { class: "secondary", id: "newer" }, "Newer");
  older.addEventListener("click", () => {
    state.cursors.push(older.dataset.next);
    load();
  });
  newer.addEventListener("click", () => {
    state.cursors.pop();
    load();
  });
  root.append(
    h("h2", {}, "Orders"), counts,
    h("div", { class: "toolbar" }, statusSelect, customer,
      h("button", { onclick: search, id: "search" }, "Search"), newer, older),
    h("div", { class: "split" }, list, detail));

  async function loadCounts() {
    const s = await api("GET", "/v1/stats");
    counts.replaceChildren(...Object.entries(s.orders).map(([k, n]) =>
      h("div", { class: "card", "data-count": k },
        h("div", { class: "n" }, n), h("div", { class: "l" }, k + " (30 days)"))));
  }

  async function load() {
    const q = new URLSearchParams({ limit: "25", order: "desc" });
    if (state.status) q.set("status", state.status);
    if (state.customer) q.set("customer", state.customer);
    const cursor = state.cursors[state.cursors.length - 1];
    if (cursor) q.set("after", cursor);
    // A live refresh and a search may be under way at once: only the
    // latest one's answer is shown (an older one may arrive after it).
    const mine = ++state.loads;
    const page = await api("GET", "/v1/orders?" + q);
    if (mine !== state.loads) return;
    older.disabled = !page.next;
    older.dataset.next = page.next || "";
    newer.disabled = state.cursors.length <= 1;
    list.replaceChildren(table(["Order", "Customer", "Status", "Total", "Created"],
      page.orders.map((o) => h("tr", { class: "clickable", "data-order": o.id,
                                       onclick: () => select(o.id) },
        h("td", {}, o.id), h("td", {}, o.customer.id), h("td", {}, badge(o.status)),
        h("td", {}, money(o.total_minor, o.currency)),
        h("td", {}, o.created_at.replace("T", " ").slice(0, 19)))),
      { id: "orders-table" }));
    if (!page.orders.length) list.append(h("p", { class: "muted" }, "No orders."));
  }

  async function select(id) {
    state.selected = id;
    const [o, journal] = await Promise.all([
      api("GET", "/v1/orders/" + id), api("GET", "/v1/orders/" + id + "/events")]);
    if (state.selected !== id) return; // another order was picked meanwhile
    const can = session.canCommand();
    // Kept across live re-renders of the same order: what is typed stays.
    if (!state.refundAmount || state.refundFor !== id) {
      state.refundAmount = h("input", { id: "refund-amount", type: "number", min: "1",
                                        placeholder: "amount (minor)", class: "narrow" });
      state.refundFor = id;
    }
    const refundAmount = state.refundAmount;
    detail.replaceChildren(h("div", {},
      h("h2", {}, "Order ", h("span", { id: "detail-id" }, o.id), " ", badge(o.status)),
      h("p", {}, o.customer.id, " · ", money(o.total_minor, o.currency),
        o.refunded_minor ? " · refunded " + money(o.refunded_minor, o.currency) : ""),
      h("div", { class: "toolbar" },
        action("Cancel order", can, async () => {
          if (!confirm("Cancel order " + o.id + "?")) return;
          await api("POST", "/v1/orders/" + o.id + "/cancel");
          toast("Cancel requested for " + o.id);
        }, { id: "cancel-order" }),
        refundAmount,
        action("Refund", can, async () => {
          const amount = Number(refundAmount.value);
          if (!(amount > 0)) throw { message: "enter an amount" };
          await api("POST", "/v1/orders/" + o.id + "/refunds", { amount_minor: amount },
                    { "Idempotency-Key": "backoffice-" + o.id + "-" + Date.now() });
          toast("Refund of " + money(amount, o.currency) + " requested");
        }, { id: "refund-order" }),
        o.status === "awaiting_capture" &&
          action("Capture", can, () => api("POST", "/v1/orders/" + o.id + "/capture"),
                 { id: "capture-order" }),
        o.status === "awaiting_capture" &&
          action("Void", can, () => api("POST", "/v1/orders/" + o.id + "/void"),
                 { id: "void-order" }),
        o.status === "failed" &&
          action("Retry compensation", session.canOperate(), async () => {
            await api("POST", "/v1/orders/" + o.id + "/retry_compensation");
            toast("Compensations of " + o.id + " run again");
          }, { id: "retry-compensation" }),
        o.status === "failed" && !o.resolution &&
          action("Mark resolved", session.canOperate(), async () => {
            const note = prompt("How was it resolved?");
            if (!note) return;
            await api("POST", "/v1/orders/" + o.id + "/resolve", { note });
            toast(o.id + " marked resolved");
            await select(o.id);
          }, { id: "resolve-order", class: "secondary" })),
      o.resolution && h("p", { id: "resolution" },
        "Resolved by " + o.resolution.by + ": " + o.resolution.note),
      h("h2", {}, "Steps"),
      table(["Step", "Status", "Attempts", "Provider ref", "Error"],
        (o.steps || []).map((s) => h("tr", { "data-step": s.name },
          h("td", {}, s.name), h("td", {}, badge(s.status)), h("td", {}, s.attempts),
          h("td", {}, s.provider_ref || ""), h("td", { class: "error" }, s.error || ""))),
        { id: "steps-table" }),
      h("h2", {}, "Payment"), h("pre", {}, JSON.stringify(o.payment, null, 2)),
      (o.refunds || []).length ? [h("h2", {}, "Refunds"),
        h("pre", { id: "refunds" }, JSON.stringify(o.refunds, null, 2))] : null,
      (o.disputes || []).length ? [h("h2", {}, "Disputes"),
        h("pre", {}, JSON.stringify(o.disputes, null, 2))] : null,
      h("h2", {}, "Journal"),
      h("ol", { class: "feed", id: "journal" }, journal.events.map((e) =>
        h("li", {}, e.seq + " " + e.at.slice(11, 19) + " " + e.type +
          (e.step ? " " + e.step : "") + (e.attempt ? " #" + e.attempt : ""))))));
  }

  const refresh = debounce(() => {
    load().catch(() => {});
    loadCounts().catch(() => {});
  });
  const refreshDetail = debounce(() => {
    if (state.selected) select(state.selected).catch(() => {});
  });
  const stop = onLive((e) => {
    if (!e.topic.startsWith("order:")) return;
    refresh();
    if (e.topic === "order:" + state.selected) refreshDetail();
  });
  await Promise.all([load(), loadCounts()]);
  return stop;
}

// -- products --

async function products(root) {
  const body = h("div");
  root.append(h("h2", {}, "Products and stock"), body);
  const load = async () => {
    const page = await api("GET", "/v1/products?limit=1000");
    body.replaceChildren(table(["SKU", "Name", "Price", "Stock", "Reserved", "Available"],
      page.products.map((p) => h("tr", { "data-sku": p.sku },
        h("td", {}, p.sku), h("td", {}, p.name), h("td", {}, money(p.price_minor, p.currency)),
        h("td", {}, p.stock), h("td", {}, p.reserved), h("td", {}, p.stock - p.reserved))),
      { id: "products-table" }));
  };
  await load();
  return onLive(debounce(() => load().catch(() => {}), 1000));
}

// -- providers --

async function providers(root) {
  const body = h("div");
  root.append(h("h2", {}, "Providers"), body);
  const load = async () => {
    const [all, stats] = await Promise.all([
      api("GET", "/v1/providers"), api("GET", "/v1/stats").catch(() => null)]);
    const latency = {};
    for (const p of (stats && stats.providers) || []) latency[p.provider] = p;
    body.replaceChildren(table(
      ["Provider", "Kind", "Circuit", "In flight", "Calls", "Errors", "Error rate", "Parked"],
      all.providers.map((p) => h("tr", { "data-provider": p.name },
        h("td", {}, p.name), h("td", {}, p.kind), h("td", { class: "circuit" }, badge(p.state)),
        h("td", {}, p.in_flight), h("td", {}, p.calls), h("td", {}, p.errors),
        h("td", {}, ((p.failure_rate || 0) * 100).toFixed(1) + " %"), h("td", {}, p.parked))),
      { id: "providers-table" }),
      h("h2", {}, "Calls (30 days)"),
      table(["Provider", "Succeeded", "Failed", "Success rate", "p50 ms", "p90 ms", "p99 ms"],
        Object.values(latency).map((p) => h("tr", {},
          h("td", {}, p.provider), h("td", {}, p.succeeded), h("td", {}, p.failed),
          h("td", {}, (p.success_rate * 100).toFixed(1) + " %"),
          h("td", {}, p.latency_ms.p50), h("td", {}, p.latency_ms.p90),
          h("td", {}, p.latency_ms.p99)))));
  };
  await load();
  const refresh = debounce(() => load().catch(() => {}), 200);
  const stop = onLive((e) => e.topic === "providers" && refresh());
  const timer = setInterval(refresh, 3000); // in-flight counts move without events
  return () => {
    stop();
    clearInterval(timer);
  };
}

// -- jobs --

async function jobs(root) {
  const status = h("select", { id: "job-status" },
    ["", "pending", "running", "dead", "done", "canceled"].map((s) =>
      h("option", { value: s }, s || "any status")));
  const kind = h("input", { id: "job-kind", placeholder: "kind" });
  const body = h("div");
  const load = async () => {
    const q = new URLSearchParams({ limit: "200" });
    if (status.value) q.set("status", status.value);
    if (kind.value.trim()) q.set("kind", kind.value.trim());
    const page = await api("GET", "/v1/jobs?" + q);
    const can = session.canOperate();
    body.replaceChildren(table(["Id", "Kind", "Key", "Status", "Run at", "Attempts", "Last error", ""],
      page.jobs.map((j) => h("tr", { "data-job": j.id },
        h("td", {}, j.id), h("td", {}, j.kind), h("td", {}, j.key), h("td", {}, badge(j.status)),
        h("td", {}, j.run_at.replace("T", " ").slice(0, 19)), h("td", {}, j.attempts),
        h("td", { class: "error" }, j.last_error || ""),
        h("td", {},
          ["pending", "dead", "canceled"].includes(j.status) &&
            action(j.status === "pending" ? "Run now" : "Revive", can, async () => {
              await api("POST", "/v1/jobs/" + j.id + "/retry");
              toast("Job " + j.id + " will run now");
              await load();
            }, { class: "job-retry" }),
          ["pending", "dead"].includes(j.status) &&
            action("Cancel", can, async () => {
              await api("POST", "/v1/jobs/" + j.id + "/cancel");
              toast("Job " + j.id + " canceled");
              await load();
            }, { class: "job-cancel secondary" })))),
      { id: "jobs-table" }));
    if (!page.jobs.length) body.append(h("p", { class: "muted" }, "No jobs."));
  };
  status.addEventListener("change", () => load());
  kind.addEventListener("keydown", (e) => e.key === "Enter" && load());
  root.append(h("h2", {}, "Durable jobs"),
    h("div", { class: "toolbar" }, status, kind,
      h("button", { onclick: () => load() }, "Filter")), body);
  await load();
  const timer = setInterval(() => load().catch(() => {}), 3000);
  return () => clearInterval(timer);
}

// -- subscriptions --

async function subscriptions(root) {
  const body = h("div");
  root.append(h("h2", {}, "Subscriptions"), body);
  const load = async () => {
    const page = await api("GET", "/v1/subscriptions?limit=200");
    body.replaceChildren(table(["Subscription", "Customer", "Plan", "Status", "Period ends"],
      page.subscriptions.map((s) => h("tr", { "data-subscription": s.id },
        h("td", {}, s.id), h("td", {}, s.customer),
        h("td", {}, s.plan ? s.plan.id + " v" + s.plan.version : ""),
        h("td", {}, badge(s.status)),
        h("td", {}, (s.current_period_end || "").replace("T", " ").slice(0, 19)))),
      { id: "subscriptions-table" }));
    if (!page.subscriptions.length) body.append(h("p", { class: "muted" }, "No subscriptions."));
  };
  await load();
  return onLive(debounce(() => load().catch(() => {}), 500));
}

// -- helpdesk: tickets, their threads, customers; and the messages sent --

async function helpdesk(root) {
  const list = h("div");
  const detail = h("div", { class: "panel", id: "ticket-detail", hidden: true });
  const status = h("select", { id: "ticket-status-filter" },
    ["", "open", "pending", "solved", "closed"].map((x) => h("option", { value: x }, x || "any status")));
  const search = h("input", { id: "customer-q", placeholder: "find a customer", class: "narrow" });
  const found = h("div", { id: "customer-results" });
  let open = "";
  const can = session.canCommand();
  const loadList = async () => {
    const q = status.value ? "?status=" + status.value : "";
    const page = await api("GET", "/v1/tickets" + q);
    list.replaceChildren(table(["Ticket", "Customer", "Subject", "Status", "Priority", "Assignee", "Updated"],
      page.tickets.map((t) => h("tr", { "data-ticket": t.id, class: "clickable",
        onclick: () => showTicket(t.id) },
        h("td", {}, t.id), h("td", {}, t.customer), h("td", {}, t.subject),
        h("td", {}, badge(t.status)), h("td", {}, t.priority), h("td", {}, t.assignee),
        h("td", {}, (t.updated_at || "").replace("T", " ").slice(0, 19)))),
      { id: "tickets-table" }));
    if (!page.tickets.length) list.append(h("p", { class: "muted" }, "No tickets."));
  };
  const showTicket = async (id) => {
    open = id;
    const t = await api("GET", "/v1/tickets/" + id);
    const reply = h("input", { id: "ticket-reply", placeholder: "Reply to the customer (sent by e-mail)" });
    const assignee = h("input", { id: "ticket-assignee", class: "narrow", value: t.assignee,
                                  placeholder: "assignee" });
    detail.hidden = false;
    detail.replaceChildren(
      h("h2", {}, t.subject, " ", badge(t.status)),
      h("p", { class: "muted" }, t.customer, t.order ? " · order " + t.order : "",
        t.subscription ? " · " + t.subscription : "", " · priority ", t.priority),
      h("ul", { class: "feed", id: "ticket-thread" }, t.messages.map((m) =>
        h("li", { class: "message " + m.author },
          h("b", {}, m.author === "customer" ? "Customer" : m.author_name || "Operator"),
          " (", m.channel, "): ", m.body))),
      h("div", { class: "toolbar" }, reply,
        action("Send reply", can && t.status !== "closed", async () => {
          await api("POST", `/v1/tickets/${id}/messages`, { body: reply.value });
          toast("Reply sent.");
          await showTicket(id);
        }, { id: "send-reply" })),
      h("div", { class: "toolbar" }, assignee,
        action("Assign", can, async () => {
          await api("POST", `/v1/tickets/${id}/assign`, { assignee: assignee.value });
          await showTicket(id);
        }),
        ["open", "pending", "solved", "closed"].map((x) =>
          action(x, can && t.status !== "closed" && t.status !== x, async () => {
            await api("POST", `/v1/tickets/${id}/status`, { status: x });
            await showTicket(id);
          }, { class: "secondary", "data-status": x }))));
  };
  status.addEventListener("change", () => loadList().catch(() => {}));
  search.addEventListener("change", async () => {
    const r = await api("GET", "/v1/customers?q=" + encodeURIComponent(search.value));
    found.replaceChildren(table(["Customer", "Name", "E-mail", "Phone", "Locale"],
      r.customers.map((c) => h("tr", { "data-customer": c.id },
        h("td", {}, c.id), h("td", {}, c.name), h("td", {}, c.email),
        h("td", {}, c.phone), h("td", {}, c.locale)))));
  });
  root.append(h("h2", {}, "Helpdesk"),
    h("div", { class: "toolbar" }, status, search), found,
    h("div", { class: "split" }, list, detail));
  await loadList();
  const refresh = debounce(async () => {
    await loadList();
    if (open) await showTicket(open);
  }, 300);
  return onLive((e) => {
    if ((e.event || "").startsWith("ticket.")) refresh();
  });
}

async function messages(root) {
  const body = h("div");
  root.append(h("h2", {}, "Messages"),
    h("p", { class: "muted" }, "What the contact service sent to customers, newest first."), body);
  const load = async () => {
    const page = await api("GET", "/v1/messages?limit=100");
    body.replaceChildren(table(["Message", "Channel", "To", "Subject", "Status", "Provider", "Attempts"],
      page.messages.map((m) => h("tr", { "data-message": m.id },
        h("td", {}, m.id), h("td", {}, m.channel), h("td", {}, m.to),
        h("td", {}, m.subject), h("td", {}, badge(m.status)), h("td", {}, m.provider || ""),
        h("td", {}, m.attempt_count))),
      { id: "messages-table" }));
  };
  await load();
  const timer = setInterval(() => load().catch(() => {}), 3000); // no events of their own
  return () => clearInterval(timer);
}

// -- cluster --

async function cluster(root) {
  const c = await api("GET", "/v1/cluster");
  root.append(h("h2", {}, "Cluster"),
    h("p", {}, "This node: ", h("b", {}, c.node), " · ", c.shards, " shards"),
    table(["Node", "State", "HTTP", "Link", "Shards held", "Heartbeat"],
      c.nodes.map((n) => h("tr", { "data-node": n.name },
        h("td", {}, n.name), h("td", {}, badge(n.state)), h("td", {}, n.http),
        h("td", {}, (n.link && n.link.state) || ""), h("td", {}, n.shards.length),
        h("td", {}, n.heartbeat_at))),
      { id: "cluster-table" }));
}

// -- live event feed --

async function events(root) {
  const feed = h("ol", { class: "feed", id: "event-feed", reversed: true });
  root.append(h("h2", {}, "Live events"),
    h("p", { class: "muted" }, "Every event of orders, providers and subscriptions as it happens."),
    feed);
  const recent = await api("GET", "/v1/events?limit=50&after=0").catch(() => ({ events: [] }));
  for (const e of (recent.events || []).slice(-50))
    feed.prepend(h("li", {}, e.seq + " " + (e.topic || "") + " " + (e.event || e.type)));
  return onLive((e) => {
    feed.prepend(h("li", { "data-seq": e.seq }, e.seq + " " + e.topic + " " + e.event));
    while (feed.children.length > 500) feed.lastChild.remove();
  });
}

// -- statistics --

async function stats(root) {
  const granularity = h("select", { id: "granularity" },
    ["day", "hour", "month"].map((g) => h("option", { value: g }, g)));
  const body = h("div");
  const load = async () => {
    const s = await api("GET", "/v1/stats?granularity=" + granularity.value);
    const series = s.series || [];
    const currencies = [...new Set(series.flatMap((p) => Object.keys(p.revenue)))];
    body.replaceChildren(
      h("div", { class: "cards" },
        Object.entries(s.orders).map(([k, n]) => h("div", { class: "card" },
          h("div", { class: "n" }, n), h("div", { class: "l" }, "orders " + k))),
        h("div", { class: "card" }, h("div", { class: "n" }, s.saga_latency_ms.p50 + " ms"),
          h("div", { class: "l" }, "saga p50 (p99 " + s.saga_latency_ms.p99 + " ms)"))),
      h("div", { id: "charts" },
        barChart("Orders created per " + s.granularity,
                 series.map((p) => ({ label: p.period, value: p.orders.created }))),
        barChart("Orders failed or cancelled per " + s.granularity,
                 series.map((p) => ({ label: p.period,
                                      value: p.orders.failed + p.orders.cancelled })), { bad: true }),
        currencies.map((c) => barChart("Revenue (" + c + ", minor units) per " + s.granularity,
          series.map((p) => ({ label: p.period, value: p.revenue[c] || 0 }))))),
      h("h2", {}, "Revenue"),
      table(["Currency", "Orders", "Subscriptions", "Refunds", "Refunded", "Net"],
        s.revenue.map((r) => h("tr", {}, h("td", {}, r.currency),
          h("td", {}, money(r.orders_minor)), h("td", {}, money(r.subscriptions_minor)),
          h("td", {}, r.refunds), h("td", {}, money(r.refunded_minor)),
          h("td", {}, money(r.net_minor))))),
      h("h2", {}, "Disputes"),
      h("p", {}, `opened ${s.disputes.opened} · won ${s.disputes.won} · lost ${s.disputes.lost}`));
  };
  granularity.addEventListener("change", () => load());
  root.append(h("h2", {}, "Statistics (30 days)"), h("div", { class: "toolbar" }, granularity), body);
  await load();
  const timer = setInterval(() => load().catch(() => {}), 5000);
  return () => clearInterval(timer);
}

// -- audit --

async function audit(root) {
  if (!session.canOperate()) {
    root.append(h("h2", {}, "Audit"), h("p", { class: "muted" }, "Operators and admins see the audit journal."));
    return;
  }
  const page = await api("GET", "/v1/audit?limit=1000");
  root.append(h("h2", {}, "Audit journal"),
    table(["When", "Who", "Role", "Action", "Path", "Status"],
      page.entries.slice().reverse().map((e) => h("tr", {},
        h("td", {}, e.at.replace("T", " ").slice(0, 19)), h("td", {}, e.key.name),
        h("td", {}, e.role), h("td", {}, e.action), h("td", {}, e.path), h("td", {}, e.status))),
      { id: "audit-table" }));
}

export const views = { orders, products, providers, jobs, subscriptions, helpdesk, messages,
  cluster, events, stats, audit };
