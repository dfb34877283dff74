// Renders the node's OpenAPI document (/openapi.yaml, built into the
// binary) as an index of every endpoint and its definition: read line by
// line (the document's layout is fixed: paths at two spaces, methods at
// four), no YAML library and nothing fetched from elsewhere.

const text = await (await fetch("/openapi.yaml")).text();
const lines = text.split("\n");

const ops = [];
let inPaths = false;
let path = null;
let current = null;
let intro = [];
let inDescription = false;
for (const line of lines) {
  if (line.startsWith("paths:")) {
    inPaths = true;
    continue;
  }
  if (!inPaths) {
    if (line.startsWith("  description:")) inDescription = true;
    else if (inDescription && line.startsWith("    ")) intro.push(line.trim());
    else inDescription = false;
    continue;
  }
  const p = line.match(/^  (\/[^:]*):\s*$/);
  if (p) {
    path = p[1];
    current = null;
    continue;
  }
  const m = line.match(/^    (get|post|put|patch|delete):\s*$/);
  if (m) {
    current = { method: m[1].toUpperCase(), path, summary: "", body: [] };
    ops.push(current);
    continue;
  }
  if (current && line.startsWith("      ")) {
    const s = line.match(/^      summary: (.*)$/);
    if (s) current.summary = s[1].replace(/^'(.*)'$/, "$1");
    current.body.push(line.slice(6));
  }
}

document.getElementById("intro").textContent = intro.join(" ");
const index = document.getElementById("index");
const operations = document.getElementById("operations");
ops.forEach((op, i) => {
  const id = "op-" + i;
  const li = document.createElement("li");
  const a = document.createElement("a");
  a.href = "#" + id;
  a.textContent = op.method + " " + op.path;
  li.append(a);
  li.dataset.text = (op.method + " " + op.path + " " + op.summary).toLowerCase();
  index.append(li);
  const section = document.createElement("section");
  section.id = id;
  section.className = "panel";
  section.dataset.text = li.dataset.text;
  const h = document.createElement("h2");
  h.textContent = op.method + " " + op.path;
  const p = document.createElement("p");
  p.textContent = op.summary;
  const pre = document.createElement("pre");
  pre.textContent = op.body.join("\n");
  section.append(h, p, pre);
  operations.append(section);
});
document.getElementById("filter").addEventListener("input", (e) => {
  const q = e.target.value.toLowerCase();
  for (const el of [...index.children, ...operations.children])
    el.hidden = q !== "" && !el.dataset.text.includes(q);
});
document.body.dataset.endpoints = String(ops.length);
