// recorder report: draws the page from the JSON document in #report-data
// (made by recorder/src/read/report/). Hand-written for this page, no
// library. Data is only ever inserted as text, never as HTML.
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("report-data").textContent);
  if (D.version !== 1) throw new Error("report data version " + D.version + ", this page reads 1");
  const L = D.limits;
  // Above this many spans in view the timeline draws the aggregate bins:
  // canvas rectangles cost ~0.1 us each, so this keeps a redraw near 5 ms.
  const SPAN_LIMIT = 30000;
  const LANE_H = 16, AXIS_H = 20, LABEL_W = 190;

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) {
      if (k === "class") e.className = attrs[k];
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    }
    for (const c of kids) if (c != null) e.append(c instanceof Node ? c : String(c));
    return e;
  }
  function dur(ns) {
    if (ns == null) return "-";
    if (ns < 1e3) return ns + " ns";
    if (ns < 1e6) return (ns / 1e3).toFixed(1) + " µs";
    if (ns < 1e9) return (ns / 1e6).toFixed(2) + " ms";
    return (ns / 1e9).toFixed(3) + " s";
  }
  const secs = (ns) => (ns / 1e9).toFixed(6);
  const fmtN = (n) => n.toLocaleString("en-US");
  const body = document.body;
  function section(id, title, note) {
    const s = el("section", { id }, el("h2", {}, title));
    if (note) s.append(el("p", { class: "note" }, note));
    body.append(s);
    return s;
  }

  // A list of calls (indices into D.calls); a click shows one on the timeline.
  function callList(indices, id) {
    const ul = el("ul", { class: "calls" });
    if (id) ul.id = id;
    for (const i of indices) {
      const c = D.calls[i];
      ul.append(el("li", { class: c[4] ? "failed" : "", title: "show on the timeline", onclick: () => showCall(i) }, c[5]));
    }
    return ul;
  }

  // ---- 1. verdict and context
  body.append(el("h1", {}, "recorder report: " + D.title));
  body.append(el("nav", {}, ...["verdict", "processes", "timeline", "errors", "latency", "search"].map(
    (s) => el("a", { href: "#" + s }, s))));
  const sv = section("verdict", "Verdict and context");
  sv.append(el("div", { class: "verdict " + (D.complete ? "ok" : "bad") }, D.verdict));
  if (D.damage) sv.append(el("p", { class: "verdict bad" }, D.damage));
  sv.append(el("pre", { id: "info" }, D.info));
  const cut = L.calls_total > L.calls_embedded || L.detail_until_ns != null;
  sv.append(el("p", { class: "note", id: "limits" },
    `Made by \`${D.made_by}\`. ${fmtN(L.calls_total)} calls passed the filters; ` +
    (cut ? `the first ${fmtN(L.max_calls)} are embedded with their lines (up to ${secs(L.detail_until_ns || 0)} s), ` +
      `plus samples of every error group and the slowest calls: ${fmtN(L.calls_embedded)} in all. ` +
      `Timeline bins, error counts and latencies cover every call; search finds embedded calls only ` +
      `(raise --max-calls, or narrow with --since/--until/--pid, for more).`
      : `all ${fmtN(L.calls_embedded)} are embedded. `) +
    ` Lines are as \`recorder dump -y -s ${L.string_limit}\` prints them.` +
    (L.threads_without_lane ? ` ${L.threads_without_lane} threads (${fmtN(L.calls_without_lane)} calls) beyond the first 512 have no lane and are not drawn.` : "") +
    (L.error_groups_dropped ? ` ${fmtN(L.error_groups_dropped)} failed calls beyond the first 1000 error groups are not grouped.` : "") +
    (L.markers_dropped ? ` ${fmtN(L.markers_dropped)} process events beyond 10,000 are not marked.` : "")));

  // ---- 2. process tree
  const sp = section("processes", "Process tree", "Every process in the log; calls and errors are all of its calls.");
  const byPid = new Map(D.processes.map((p) => [p.pid, p]));
  const kids = new Map();
  for (const p of D.processes) {
    const parent = p.parent != null && byPid.has(p.parent) ? p.parent : null;
    if (!kids.has(parent)) kids.set(parent, []);
    kids.get(parent).push(p);
  }
  function tree(parent) {
    const ul = el("ul", { class: "tree" });
    for (const p of kids.get(parent) || []) {
      const li = el("li", { "data-pid": p.pid }, el("b", {}, p.pid), " ", p.names.join(" → ") || "?",
        ` — ${p.threads} thread${p.threads === 1 ? "" : "s"}, ${fmtN(p.calls)} calls, `,
        p.errors ? el("span", { class: "badge err" }, p.errors + (p.errors === 1 ? " error" : " errors")) : "0 errors", ", ",
        p.crashed ? el("span", { class: "badge crash" }, "crash: " + p.end) : p.end);
      if (kids.has(p.pid)) li.append(tree(p.pid));
      ul.append(li);
    }
    return ul;
  }
  sp.append(tree(null));

  // ---- 3. timeline
  const st = section("timeline", "Timeline",
    "One lane per thread. Wheel: zoom at the pointer; drag: pan; double-click: everything. " +
    "Zoomed out, each lane shows how many calls fell in each slice of time (darker: more; red: some failed); " +
    "zoomed in, every call is a span.");
  st.append(el("div", { class: "legend" },
    el("span", {}, el("i", { style: "background:var(--call)" }), "call"),
    el("span", {}, el("i", { style: "background:var(--err)" }), "failed call"),
    el("span", {}, el("i", { style: "background:#2a9d4b" }), "exec"),
    el("span", {}, el("i", { style: "background:#7b4bb7" }), "fork"),
    el("span", {}, el("i", { style: "background:#555" }), "exit / signal"),
    el("span", {}, el("i", { style: "background:#000" }), "crash")));
  const controls = el("div", { class: "controls" },
    el("button", { onclick: () => zoom(0.5) }, "zoom in"),
    el("button", { onclick: () => zoom(2) }, "zoom out"),
    el("button", { onclick: () => { view = [...full]; draw(); } }, "all"),
    el("span", { id: "tl-mode", class: "note" }));
  st.append(controls);
  const canvas = el("canvas", { id: "tl-canvas" });
  st.append(el("div", { id: "tl-wrap" }, canvas));
  const detail = el("p", { id: "tl-detail", class: "mono" });
  st.append(detail);
  const lanes = D.threads.map(() => []);
  D.calls.forEach((c, i) => lanes[c[0]].push(i));
  for (const l of lanes) l.sort((a, b) => D.calls[a][1] - D.calls[b][1]);
  let end = D.t0_ns + 1;
  for (const c of D.calls) end = Math.max(end, c[1] + (c[2] || 0));
  for (const m of D.markers) end = Math.max(end, m[1]);
  for (const t of D.threads) for (const b of t.bins) end = Math.max(end, D.t0_ns + (b[0] + 1) * D.bin_ns);
  const full = [D.t0_ns, end];
  let view = [...full], picked = null, lastDrawMs = 0;
  const ctx = canvas.getContext("2d");

  function firstAtOrAfter(lane, t) { // binary search on start times
    let lo = 0, hi = lane.length;
    while (lo < hi) { const m = (lo + hi) >> 1; if (D.calls[lane[m]][1] < t) lo = m + 1; else hi = m; }
    return lo;
  }
  function draw() {
    const t0 = performance.now();
    const dpr = window.devicePixelRatio || 1, w = canvas.clientWidth || 800;
    const h = AXIS_H + D.threads.length * LANE_H + 4;
    canvas.style.height = h + "px";
    canvas.width = w * dpr; canvas.height = h * dpr;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const plotW = w - LABEL_W, span = view[1] - view[0], k = plotW / span;
    const X = (t) => LABEL_W + (t - view[0]) * k;
    let visible = 0;
    // Widen by the longest call so spans that start left of the view count.
    const slack = D.latency.reduce((m, r) => Math.max(m, r.max_ns || 0), 0);
    const ranges = lanes.map((l) => {
      const a = firstAtOrAfter(l, view[0] - slack), b = firstAtOrAfter(l, view[1] + 1);
      visible += b - a;
      return [a, b];
    });
    const detailed = (L.detail_until_ns == null || view[1] <= L.detail_until_ns) && visible <= SPAN_LIMIT;
    D.threads.forEach((t, i) => {
      const y = AXIS_H + i * LANE_H;
      ctx.fillStyle = i % 2 ? "#fafbfc" : "#f0f2f5";
      ctx.fillRect(LABEL_W, y, plotW, LANE_H);
      ctx.fillStyle = "#1d1f23"; ctx.font = "11px system-ui, sans-serif";
      ctx.fillText(`${t.name} ${t.tid}${t.tid !== t.pid ? " (pid " + t.pid + ")" : ""}`.slice(0, 30), 4, y + 12);
      if (detailed) drawSpans(lanes[i], ranges[i], y, X, w);
      else drawBins(t, y, X, k, w);
    });
    drawMarkers(X, w);
    drawAxis(X, w, span);
    lastDrawMs = performance.now() - t0;
    document.getElementById("tl-mode").textContent = (detailed ? `${fmtN(visible)} calls drawn as spans` :
      `aggregated (${fmtN(visible)} embedded calls in view)`) + `; ${dur(Math.round(span))} in view; drawn in ${lastDrawMs.toFixed(1)} ms`;
    window.reportTimeline = { mode: detailed ? "spans" : "bins", visible, drawMs: lastDrawMs, view: [...view] };
  }
  function drawSpans(lane, [a, b], y, X, w) {
    for (let j = a; j < b; j++) {
      const c = D.calls[lane[j]];
      const x0 = Math.max(LABEL_W, X(c[1])), x1 = Math.min(w, X(c[1] + (c[2] || 0)));
      if (x1 < LABEL_W) continue;
      ctx.fillStyle = c[4] ? "#d2372b" : "#3b6fb6";
      ctx.fillRect(x0, y + 2, Math.max(1, x1 - x0), LANE_H - 4);
      if (lane[j] === picked) { ctx.strokeStyle = "#000"; ctx.lineWidth = 2; ctx.strokeRect(x0 - 1, y + 1, Math.max(1, x1 - x0) + 2, LANE_H - 2); }
    }
  }
  function drawBins(t, y, X, k, w) {
    let max = 1;
    for (const b of t.bins) max = Math.max(max, b[1]);
    const bw = Math.max(1, D.bin_ns * k), lm = Math.log(max + 1);
    for (const b of t.bins) {
      const x = X(D.t0_ns + b[0] * D.bin_ns);
      if (x + bw < LABEL_W || x > w) continue;
      ctx.fillStyle = b[2] ? "#d2372b" : "#3b6fb6";
      ctx.globalAlpha = 0.25 + 0.75 * Math.log(b[1] + 1) / lm;
      ctx.fillRect(Math.max(LABEL_W, x), y + 2, bw, LANE_H - 4);
    }
    ctx.globalAlpha = 1;
  }
  const MARK = { exec: "#2a9d4b", fork: "#7b4bb7", exit: "#555", signal: "#555", crash: "#000" };
  function drawMarkers(X, w) {
    for (const m of D.markers) {
      const x = X(m[1]);
      if (x < LABEL_W || x > w) continue;
      const y = AXIS_H + m[0] * LANE_H;
      ctx.fillStyle = MARK[m[2]];
      if (m[2] === "crash") {
        ctx.beginPath(); ctx.moveTo(x, y + LANE_H); ctx.lineTo(x - 6, y); ctx.lineTo(x + 6, y); ctx.fill();
      } else ctx.fillRect(x - 1, y, 2, LANE_H);
    }
  }
  function drawAxis(X, w, span) {
    const step = Math.pow(10, Math.floor(Math.log10(span / 5)));
    ctx.fillStyle = "#5f6670"; ctx.font = "10px system-ui, sans-serif";
    for (let t = Math.ceil(view[0] / step) * step; t <= view[1]; t += step) {
      const x = X(t);
      ctx.fillRect(x, AXIS_H - 5, 1, 5);
      ctx.fillText(secs(t).replace(/0+$/, "").replace(/\.$/, "") + " s", x + 2, 10);
    }
  }
  function zoom(f, at) {
    const c = at == null ? (view[0] + view[1]) / 2 : at;
    const span = Math.max(100, (view[1] - view[0]) * f);
    const r = (c - view[0]) / (view[1] - view[0]);
    view = [c - r * span, c - r * span + span];
    draw();
  }
  const tAt = (px) => view[0] + (px - LABEL_W) * (view[1] - view[0]) / (canvas.clientWidth - LABEL_W);
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    const r = canvas.getBoundingClientRect();
    zoom(e.deltaY < 0 ? 0.8 : 1.25, tAt(e.clientX - r.left));
  }, { passive: false });
  let drag = null;
  canvas.addEventListener("mousedown", (e) => { drag = { x: e.clientX, v: [...view], moved: false }; });
  window.addEventListener("mouseup", () => { drag = null; });
  canvas.addEventListener("dblclick", () => { view = [...full]; draw(); });
  canvas.addEventListener("mousemove", (e) => {
    const r = canvas.getBoundingClientRect();
    if (drag) {
      const dt = (e.clientX - drag.x) * (drag.v[1] - drag.v[0]) / (canvas.clientWidth - LABEL_W);
      if (Math.abs(e.clientX - drag.x) > 2) drag.moved = true;
      view = [drag.v[0] - dt, drag.v[1] - dt];
      draw();
      return;
    }
    const i = callAt(e.clientX - r.left, e.clientY - r.top);
    if (i != null) detail.textContent = D.calls[i][5] + "  <" + dur(D.calls[i][2]) + ">";
  });
  function callAt(px, py) {
    const li = Math.floor((py - AXIS_H) / LANE_H);
    if (li < 0 || li >= lanes.length || px < LABEL_W) return null;
    const lane = lanes[li], t = tAt(px), tol = 3 * (view[1] - view[0]) / canvas.clientWidth;
    const j = firstAtOrAfter(lane, t + tol) - 1;
    if (j < 0) return null;
    const c = D.calls[lane[j]];
    return c[1] + (c[2] || 0) + tol >= t ? lane[j] : null;
  }
  // Shows call i: centred on the timeline, picked, its line under it.
  function showCall(i) {
    const c = D.calls[i], d = Math.max(c[2] || 0, 1000);
    view = [c[1] - 20 * d, c[1] + 21 * d];
    picked = i;
    detail.textContent = c[5] + "  <" + dur(c[2]) + ">";
    draw();
    st.scrollIntoView({ block: "start" });
  }
  window.addEventListener("resize", draw);

  // ---- 4. errors
  const se = section("errors", "Errors", "Failed calls grouped by syscall, errno and path (the first string argument). Click a row for its calls.");
  if (!D.errors.length) se.append(el("p", {}, "No call failed."));
  else {
    const tbl = el("table", { id: "error-table" }, el("tr", {}, el("th", {}, "syscall"), el("th", {}, "errno"),
      el("th", {}, "path"), el("th", { class: "n" }, "count"), el("th", { class: "n" }, "first s"), el("th", { class: "n" }, "last s")));
    const shown = el("div", { id: "error-calls" });
    for (const g of D.errors) {
      const tr = el("tr", { class: "click" }, el("td", {}, g.syscall), el("td", {}, g.errno), el("td", { class: "mono" }, g.path),
        el("td", { class: "n" }, fmtN(g.count)), el("td", { class: "n" }, secs(g.first_ns)), el("td", { class: "n" }, secs(g.last_ns)));
      tr.addEventListener("click", () => {
        for (const r of tbl.querySelectorAll("tr.sel")) r.classList.remove("sel");
        tr.classList.add("sel");
        shown.replaceChildren(el("p", { class: "note" }, `${g.calls.length} of ${fmtN(g.count)} calls:`), callList(g.calls));
      });
      tbl.append(tr);
    }
    se.append(tbl, shown);
  }

  // ---- 5. latency
  const sl = section("latency", "Latency",
    "Per syscall, as `recorder stats` computes them; histogram: calls per power of two of their duration (log scale, 1 ns to the slowest), bar height log of the count.");
  let kmax = 1;
  for (const r of D.latency) for (const [k] of r.hist) kmax = Math.max(kmax, k);
  const lt = el("table", { id: "latency-table" }, el("tr", {}, el("th", {}, "syscall"), el("th", { class: "n" }, "calls"),
    el("th", { class: "n" }, "errors"), el("th", { class: "n" }, "p50"), el("th", { class: "n" }, "p99"),
    el("th", { class: "n" }, "max"), el("th", {}, "histogram"), el("th", {}, "slowest calls")));
  if (D.no_durations) sl.append(el("p", { class: "note" }, `${D.no_durations}: calls were recorded at their exit only, so this log has counts and errors but no times.`));
  for (const r of D.latency) {
    const hist = el("span", { class: "hist" });
    const counts = new Map(r.hist);
    let top = 1;
    for (const [, n] of r.hist) top = Math.max(top, n);
    for (let k = 0; k <= kmax; k++) {
      const n = counts.get(k) || 0;
      const lo = k ? dur(2 ** (k - 1)) : "0 ns";
      hist.append(el("span", { class: n ? "" : "empty", style: `height:${n ? 3 + 23 * Math.log(n + 1) / Math.log(top + 1) : 0}px`,
        title: `${fmtN(n)} calls from ${lo} to ${dur(2 ** k)}` }));
    }
    const slow = el("details", {}, el("summary", {}, dur(r.max_ns)), callList(r.slowest));
    lt.append(el("tr", {}, el("td", {}, r.syscall), el("td", { class: "n" }, fmtN(r.calls)), el("td", { class: "n" }, fmtN(r.errors)),
      el("td", { class: "n" }, dur(r.p50_ns)), el("td", { class: "n" }, dur(r.p99_ns)), el("td", { class: "n" }, dur(r.max_ns)),
      el("td", {}, hist), el("td", {}, r.slowest.length ? slow : "-")));
  }
  sl.append(lt, el("h3", {}, "Slowest calls"), callList(D.slowest, "slowest-calls"));

  // ---- 6. search
  const ss = section("search", "Search",
    `Filters the ${fmtN(L.calls_embedded)} embedded calls by text: a syscall, a path, an errno, captured data. Case-insensitive; up to 500 matches listed.`);
  const input = el("input", { type: "search", id: "search-input", placeholder: "openat, /etc/hosts, ENOENT, ..." });
  const status = el("p", { class: "note", id: "search-status" });
  const results = el("ul", { class: "calls", id: "search-results" });
  ss.append(input, status, results);
  let timer = null, run = 0;
  // Scans in slices of a few milliseconds so typing never waits on a long log.
  function search(q) {
    const me = ++run, needle = q.toLowerCase(), found = [];
    results.replaceChildren();
    if (!needle) { status.textContent = ""; return; }
    let i = 0;
    (function slice() {
      if (me !== run) return;
      const stop = performance.now() + 8;
      while (i < D.calls.length && performance.now() < stop) {
        for (const lim = Math.min(D.calls.length, i + 256); i < lim; i++) {
          if (D.calls[i][5].toLowerCase().includes(needle)) found.push(i);
        }
      }
      if (i < D.calls.length) { status.textContent = `searching… ${fmtN(found.length)} so far`; setTimeout(slice, 0); return; }
      status.textContent = `${fmtN(found.length)} calls match`;
      results.replaceChildren(...callList(found.slice(0, 500)).children);
      status.dataset.done = String(me);
    })();
  }
  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => search(input.value.trim()), 150); });

  draw();
  window.reportReadyMs = performance.now();
  document.documentElement.dataset.ready = "1";
})();
