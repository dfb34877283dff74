// kassa's notification client: an ES module with no dependencies, for the
// browser (and any runtime with a WebSocket). It connects to a node's
// /v1/ws with an API key or a customer token, subscribes to topics, and
// when the socket drops it reconnects with backoff and resumes after the
// last event it saw — so across reconnects no event is missed and none is
// delivered twice (the node sends every event after `since` exactly once;
// the client drops any seq it has already delivered).
//
//   import { KassaClient } from "/assets/kassa.js";
//   const client = new KassaClient({ url: "ws://127.0.0.1:8080/v1/ws",
//                                    token: "dev-key", topics: ["orders"] });
//   client.on("event", (e) => console.log(e.seq, e.topic, e.event, e.data));
//   client.connect();
//
// Events: "event" (each event, once, in seq order), "state" ("connecting",
// "open", "closed", "stopped"), "error" (an error frame from the node).
// Documented in clients/js/README.md.

export class KassaClient {
  /**
   * @param {object} options
   * @param {string} options.url      ws:// or wss:// URL of /v1/ws
   * @param {string} options.token    API key or customer token
   * @param {string[]} [options.topics] topics to subscribe to at once
   * @param {number} [options.since]  resume after this seq (0: live only)
   * @param {number} [options.initialBackoffMs] first reconnect delay (250)
   * @param {number} [options.maxBackoffMs] longest reconnect delay (10000)
   * @param {number} [options.pingMs] keep-alive interval (15000)
   * @param {typeof WebSocket} [options.WebSocket] a WebSocket class
   */
  constructor(options) {
    if (!options || !options.url || !options.token)
      throw new Error("KassaClient: url and token are required");
    this.url = options.url;
    this.token = options.token;
    this.topics = new Set(options.topics || []);
    this.lastSeq = options.since || 0;
    this.initialBackoffMs = options.initialBackoffMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 10000;
    this.pingMs = options.pingMs ?? 15000;
    this.WebSocket = options.WebSocket || globalThis.WebSocket;
    this.listeners = { event: [], state: [], error: [] };
    this.socket = null;
    this.stopped = true;
    this.attempt = 0;
    this.reconnects = 0;
    this.timer = null;
    this.pinger = null;
    this.state = "closed";
  }

  /** Adds a listener: on("event" | "state" | "error", fn). */
  on(name, fn) {
    if (!this.listeners[name]) throw new Error("KassaClient: no event " + name);
    this.listeners[name].push(fn);
    return this;
  }

  /** Opens the socket (and keeps it open until close()). */
  connect() {
    this.stopped = false;
    this.open();
    return this;
  }

  /** Subscribes to more topics, from the last seq seen. */
  subscribe(topics) {
    const fresh = topics.filter((t) => !this.topics.has(t));
    fresh.forEach((t) => this.topics.add(t));
    if (fresh.length && this.state === "open")
      this.send({ op: "subscribe", topics: fresh, since: this.lastSeq });
  }

  /** Stops receiving these topics. */
  unsubscribe(topics) {
    topics.forEach((t) => this.topics.delete(t));
    if (this.state === "open") this.send({ op: "unsubscribe", topics });
  }

  /** Closes for good (no reconnect). */
  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    if (this.socket) this.socket.close();
    this.setState("stopped");
  }

  // -- inside --

  open() {
    clearTimeout(this.timer);
    this.setState("connecting");
    const sep = this.url.includes("?") ? "&" : "?";
    const socket = new this.WebSocket(
      this.url + sep + "token=" + encodeURIComponent(this.token));
    this.socket = socket;
    socket.onopen = () => {
      if (socket !== this.socket) return;
      this.attempt = 0;
      this.setState("open");
      if (this.topics.size)
        this.send({ op: "subscribe", topics: [...this.topics],
                    since: this.lastSeq });
      clearInterval(this.pinger);
      this.pinger = setInterval(() => this.send({ op: "ping" }), this.pingMs);
    };
    socket.onmessage = (m) => {
      if (socket !== this.socket) return;
      let frame;
      try {
        frame = JSON.parse(m.data);
      } catch {
        return;
      }
      if (frame.type === "event") {
        // Seen already (a resume overlaps what was delivered): drop it.
        if (frame.seq <= this.lastSeq) return;
        this.lastSeq = frame.seq;
        this.emit("event", frame);
      } else if (frame.type === "error") {
        this.emit("error", frame.error);
      }
    };
    socket.onclose = () => {
      if (socket !== this.socket) return;
      clearInterval(this.pinger);
      this.socket = null;
      if (this.stopped) return;
      this.setState("closed");
      // Full jitter, doubling to the maximum.
      const cap = Math.min(this.maxBackoffMs,
                           this.initialBackoffMs * 2 ** this.attempt);
      this.attempt++;
      this.reconnects++;
      this.timer = setTimeout(() => this.open(), Math.random() * cap);
    };
    socket.onerror = () => {}; // onclose follows and reconnects
  }

  send(frame) {
    if (this.socket && this.socket.readyState === 1)
      this.socket.send(JSON.stringify(frame));
  }

  setState(state) {
    this.state = state;
    this.emit("state", state);
  }

  emit(name, value) {
    for (const fn of this.listeners[name]) {
      try {
        fn(value);
      } catch (e) {
        console.error("KassaClient listener:", e);
      }
    }
  }
}
