// Small SVG charts for the statistics view: no library, nothing fetched.

const ns = "http://www.w3.org/2000/svg";

function el(tag, attrs, text) {
  const e = document.createElementNS(ns, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/**
 * A bar chart of `points` ([{label, value}]), `title` above it.
 * Returns an <svg> element.
 */
export function barChart(title, points, { width = 520, height = 180, bad = false } = {}) {
  const svg = el("svg", { width, height, role: "img", "aria-label": title,
                          viewBox: `0 0 ${width} ${height}` });
  svg.append(el("text", { x: 4, y: 12 }, title));
  const top = 20, bottom = height - 18, left = 40;
  const max = Math.max(1, ...points.map((p) => p.value));
  svg.append(el("text", { x: 4, y: top + 10 }, String(max)));
  svg.append(el("text", { x: 4, y: bottom }, "0"));
  const step = points.length ? (width - left - 4) / points.length : 0;
  points.forEach((p, i) => {
    const h = ((bottom - top) * p.value) / max;
    const bar = el("rect", { class: bad ? "bar bad" : "bar",
                             x: left + i * step + 2, y: bottom - h,
                             width: Math.max(1, step - 4), height: h });
    bar.append(el("title", {}, `${p.label}: ${p.value}`));
    svg.append(bar);
    if (points.length <= 16 || i % Math.ceil(points.length / 16) === 0)
      svg.append(el("text", { x: left + i * step + 2, y: height - 4 },
                    p.label.slice(5)));
  });
  return svg;
}
