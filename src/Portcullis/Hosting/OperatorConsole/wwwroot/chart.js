// Sessions per day as two panels that share the day axis: successful sessions above, failed sessions
// below on their own scale, so one failure beside a thousand successes is a full bar, not a pixel.
// Every text goes in as textContent: nothing here parses markup.
"use strict";
(function () {
  const NS = "http://www.w3.org/2000/svg";
  const MIN_BAR = 3; // px: a non-zero count never draws thinner than this

  function el(name, attrs, text) {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = String(text);
    return e;
  }

  // 1, 2, 5 × 10^n at or above max, so the top tick is a round number.
  function niceMax(max) {
    if (max <= 0) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(max)));
    for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
    return 10 * p;
  }

  function fmt(n) { return Number(n).toLocaleString("en-US", { maximumFractionDigits: 1 }); }

  function showTip(evt, text) {
    const tip = document.getElementById("tip");
    if (!tip) return;
    tip.textContent = text;
    tip.hidden = false;
    tip.style.left = (evt.clientX + 12) + "px";
    tip.style.top = (evt.clientY + 12) + "px";
  }

  function hideTip() {
    const tip = document.getElementById("tip");
    if (tip) tip.hidden = true;
  }

  function panel(svg, days, key, cls, top, height, left, slot, title) {
    const max = niceMax(Math.max(0, ...days.map(d => d[key])));
    const axis = el("g", { class: "axis" });
    for (const f of [0, 0.5, 1]) {
      const y = top + height - f * height;
      svg.appendChild(el("line", { class: "grid", x1: left, x2: left + slot * days.length, y1: y, y2: y }));
      axis.appendChild(el("text", { x: left - 6, y: y + 4, "text-anchor": "end" }, fmt(f * max)));
    }
    axis.appendChild(el("line", { x1: left, x2: left, y1: top, y2: top + height }));
    axis.appendChild(el("text", { x: 14, y: top + height / 2, transform: `rotate(-90 14 ${top + height / 2})`, "text-anchor": "middle" }, title));
    svg.appendChild(axis);
    days.forEach((d, i) => {
      const v = d[key];
      if (v <= 0) return;
      const h = Math.max(MIN_BAR, Math.round(height * v / max));
      const total = d.successful + d.failed;
      const share = total > 0 ? ` (${(100 * d.failed / total).toPrecision(2)} % failed)` : "";
      const text = `${d.day}: ${fmt(v)} ${key === "failed" ? "failed" : "successful"} of ${fmt(total)} sessions${share}`;
      const r = el("rect", {
        class: cls, x: left + i * slot + 1, y: top + height - h, width: Math.max(1, slot - 2), height: h,
        "data-series": key, "data-day": d.day, "data-value": v,
      });
      r.appendChild(el("title", {}, text));
      r.addEventListener("mousemove", e => showTip(e, text));
      r.addEventListener("mouseleave", hideTip);
      svg.appendChild(r);
    });
  }

  // days: [{day: "YYYY-MM-DD", successful, failed}], one per day in order.
  function render(days, label) {
    const slot = Math.max(8, Math.min(36, Math.floor(900 / Math.max(1, days.length))));
    const left = 70, okTop = 10, okH = 140, failTop = okTop + okH + 24, failH = 90, axisY = failTop + failH;
    const width = Math.max(left + slot * days.length + 20, 260), height = axisY + 48;
    const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": label });
    panel(svg, days, "successful", "ok", okTop, okH, left, slot, "successful / day");
    panel(svg, days, "failed", "fail", failTop, failH, left, slot, "failed / day");
    const x = el("g", { class: "axis" });
    x.appendChild(el("line", { x1: left, x2: left + slot * days.length, y1: axisY, y2: axisY }));
    const every = Math.ceil(days.length / 15);
    days.forEach((d, i) => {
      if (i % every !== 0) return;
      x.appendChild(el("text", { x: left + i * slot + slot / 2, y: axisY + 14, "text-anchor": "middle" }, d.day.slice(5)));
    });
    x.appendChild(el("text", { x: left, y: axisY + 36 }, "day (UTC, MM-DD)"));
    svg.appendChild(x);

    const box = document.createElement("div");
    box.className = "chart";
    const legend = document.createElement("div");
    legend.className = "legend";
    for (const [cls, text] of [["ok", "successful sessions"], ["fail", "failed sessions (own scale)"]]) {
      const s = document.createElement("span");
      s.className = cls;
      s.textContent = text;
      legend.appendChild(s);
    }
    box.append(legend, svg);
    return box;
  }

  window.PortcullisChart = { render };
})();
