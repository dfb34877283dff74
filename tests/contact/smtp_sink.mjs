#!/usr/bin/env node
// A local SMTP sink for the contact tests and bench/messages: takes every
// message on 127.0.0.1 and appends one JSON line per message to --out:
// {"id": X-Kassa-Message-Id, "from", "to": [...], "user", "secure", "data"?}.
//
//   node smtp_sink.mjs --port 2525 --out sink.jsonl [--cert c.pem --key k.pem]
//        [--user u --pass p] [--reject-domain bad.example] [--ids-only]
//
// --cert/--key offer STARTTLS (and AUTH only after it); --user/--pass make
// AUTH PLAIN required; --reject-domain answers 550 to such recipients;
// --ids-only leaves the message text out (the benchmark). Prints
// "listening <port>" once it takes connections.
import fs from "node:fs";
import { SMTPServer } from "smtp-server";

const args = {};
for (let i = 2; i < process.argv.length; i += 1) {
  const a = process.argv[i];
  if (!a.startsWith("--")) continue;
  const next = process.argv[i + 1];
  if (next === undefined || next.startsWith("--")) args[a.slice(2)] = true;
  else { args[a.slice(2)] = next; i += 1; }
}
const port = Number(args.port || 2525);
const out = fs.createWriteStream(args.out || "sink.jsonl", { flags: "a" });
const tls = Boolean(args.cert && args.key);

const server = new SMTPServer({
  secure: false,
  key: tls ? fs.readFileSync(args.key) : undefined,
  cert: tls ? fs.readFileSync(args.cert) : undefined,
  disabledCommands: tls ? [] : ["STARTTLS"],
  authOptional: !args.user,
  authMethods: ["PLAIN"],
  allowInsecureAuth: false,
  logger: false,
  size: 10 * 1024 * 1024,
  maxClients: 1000,
  onAuth(auth, session, callback) {
    if (auth.username === args.user && auth.password === args.pass)
      return callback(null, { user: auth.username });
    return callback(new Error("Invalid username or password"));
  },
  onRcptTo(address, session, callback) {
    if (args["reject-domain"] && address.address.endsWith("@" + args["reject-domain"])) {
      const err = new Error("No such user here");
      err.responseCode = 550;
      return callback(err);
    }
    return callback();
  },
  onData(stream, session, callback) {
    const chunks = [];
    stream.on("data", (c) => chunks.push(c));
    stream.on("end", () => {
      const data = Buffer.concat(chunks).toString("utf8");
      const m = /^X-Kassa-Message-Id: (.*)$/im.exec(data);
      const line = {
        id: m ? m[1].trim() : null,
        from: session.envelope.mailFrom && session.envelope.mailFrom.address,
        to: session.envelope.rcptTo.map((r) => r.address),
        user: session.user || null,
        secure: Boolean(session.secure),
      };
      if (!args["ids-only"]) line.data = data;
      out.write(JSON.stringify(line) + "\n");
      callback(null, "Queued");
    });
  },
});
server.on("error", (e) => console.error("sink error:", e.message));
server.listen(port, "127.0.0.1", () => console.log("listening " + port));
for (const sig of ["SIGTERM", "SIGINT"])
  process.on(sig, () => { server.close(() => out.end(() => process.exit(0))); setTimeout(() => process.exit(0), 2000); });
