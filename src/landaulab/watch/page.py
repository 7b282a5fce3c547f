"""The watch page: one HTML document, its style sheet and its script.

Plain HTML, CSS and JavaScript drawing SVG, with no library and nothing loaded from
elsewhere, so the page works offline. The script listens to ``/api/events`` (server-sent
events) and fetches ``/api/state`` whenever the store or the analysis changed.

Element ids the tests rely on: ``progress`` (``data-finished``, ``data-total``),
``failures``, ``phase`` (an SVG with ``data-filled``, ``data-points``), ``observable`` (a
select), ``trajectories`` (an SVG with ``data-runs``), ``verdict`` (``data-state``),
``live`` (``data-live``).
"""

from __future__ import annotations

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>landaulab watch</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/watch.css">
<script src="/watch.js" defer></script>
</head>
<body>
<header>
  <h1>landaulab watch</h1>
  <p><span id="store">…</span> <span id="live" data-live="no">connecting</span></p>
</header>
<main>
  <section id="progress-section">
    <h2>Progress</h2>
    <p id="progress" data-finished="" data-total="">reading the store…</p>
    <div id="progress-bar" role="img" aria-label="progress"></div>
  </section>
  <section id="phase-section">
    <h2>Phase diagram</h2>
    <svg id="phase" viewBox="0 0 600 380" data-filled="0" data-points="0"
         role="img" aria-label="phase diagram"></svg>
    <p id="phase-legend" class="legend"></p>
  </section>
  <section id="trajectories-section">
    <h2>Trajectories
      <label>of <select id="observable" aria-label="observable"></select></label>
    </h2>
    <svg id="trajectories" viewBox="0 0 600 380" data-runs="0"
         role="img" aria-label="trajectories"></svg>
    <p id="trajectories-legend" class="legend"></p>
  </section>
  <section id="verdict-section">
    <h2>Analysis</h2>
    <div id="verdict" data-state="">…</div>
  </section>
  <section id="failures-section">
    <h2>Failed and diverged runs</h2>
    <div id="failures"></div>
  </section>
</main>
</body>
</html>
"""

STYLE = """
:root { color-scheme: light; --ink: #1d2430; --muted: #667085; --line: #d0d5dd; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--ink);
       background: #f7f8fa; }
header { padding: 14px 24px; background: #fff; border-bottom: 1px solid var(--line); }
header h1 { margin: 0; font-size: 20px; }
header p { margin: 2px 0 0; color: var(--muted); }
#live { margin-left: 10px; padding: 1px 8px; border-radius: 10px; font-size: 12px;
        background: #fde2e1; color: #8a1c16; }
#live[data-live="yes"] { background: #dcfae6; color: #085d3a; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr));
       gap: 16px; padding: 16px 24px; align-items: start; }
#progress-section { grid-column: 1 / -1; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px;
          padding: 12px 16px; min-width: 0; }
section h2 { margin: 0 0 8px; font-size: 16px; }
section h2 label { font-weight: normal; font-size: 14px; margin-left: 6px; }
svg { width: 100%; height: auto; display: block; }
#progress-bar { display: flex; height: 16px; border-radius: 4px; overflow: hidden;
                background: #eaecf0; }
#progress-bar span { display: block; height: 100%; }
.seg-done { background: #2e7d32; } .seg-diverged { background: #e8a33d; }
.seg-failed { background: #c62828; } .seg-pending { background: #eaecf0; }
.legend { color: var(--muted); font-size: 13px; margin: 4px 0 0; }
.axis line, .axis path { stroke: #98a2b3; }
.axis text, .label { fill: #475467; font-size: 12px; }
.grid { stroke: #f2f4f7; }
.pt-pending { fill: none; stroke: #98a2b3; stroke-dasharray: 2 2; }
.pt-done { stroke: #1d2430; stroke-width: 0.6; }
.pt-diverged { stroke: #7a4a00; stroke-width: 1.2; }
.pt-failed { fill: #c62828; stroke: #5c0b0b; }
.traj { fill: none; stroke-width: 1.4; }
.traj-diverged { stroke-dasharray: 4 3; }
.empty { fill: var(--muted); font-size: 14px; }
#verdict dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px;
              margin: 0; }
#verdict dt { color: var(--muted); }
#verdict dd { margin: 0; }
#verdict ul { margin: 6px 0 0; padding-left: 18px; color: #344054; font-size: 14px; }
.note { color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid #f2f4f7;
         vertical-align: top; }
td.status-failed { color: #c62828; } td.status-diverged { color: #b26b00; }
"""

SCRIPT = r"""
"use strict";
(function () {
  var NS = "http://www.w3.org/2000/svg";
  var W = 600, H = 380, M = {left: 64, right: 16, top: 14, bottom: 46};
  var version = -1, observable = null, loading = false, again = false;

  function $(id) { return document.getElementById(id); }
  function svgEl(tag, attrs, parent) {
    var node = document.createElementNS(NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }
  function htmlEl(tag, text, parent, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (cls) node.className = cls;
    if (parent) parent.appendChild(node);
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function fmt(v) {
    if (v === null || v === undefined || !isFinite(v)) return "–";
    var a = Math.abs(v);
    if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
    return String(parseFloat(v.toPrecision(4)));
  }
  function words(name) { return name ? String(name).replace(/[_-]+/g, " ") : ""; }
  function finite(values) {
    return values.filter(function (v) { return v !== null && isFinite(v); });
  }
  function useLog(values) {
    var v = finite(values);
    if (!v.length) return false;
    var lo = Math.min.apply(null, v), hi = Math.max.apply(null, v);
    return lo > 0 && hi / lo > 50;
  }
  function domain(values, log) {
    var v = finite(values).filter(function (x) { return !log || x > 0; });
    if (!v.length) return [0, 1];
    var lo = Math.min.apply(null, v), hi = Math.max.apply(null, v);
    if (log) { lo = Math.log10(lo); hi = Math.log10(hi); }
    if (lo === hi) { var d = Math.abs(lo) * 0.1 || 0.5; lo -= d; hi += d; }
    var pad = (hi - lo) * 0.06;
    return [lo - pad, hi + pad];
  }
  function scaler(dom, a, b, log) {
    return function (v) {
      if (v === null || !isFinite(v) || (log && v <= 0)) return null;
      var t = ((log ? Math.log10(v) : v) - dom[0]) / (dom[1] - dom[0]);
      return a + t * (b - a);
    };
  }
  function ticks(dom, log) {
    var out = [], lo = dom[0], hi = dom[1];
    if (log) {
      for (var e = Math.ceil(lo); e <= Math.floor(hi); e++) out.push(Math.pow(10, e));
      if (out.length >= 2) return out;
      out = [];
    }
    var span = hi - lo, step = Math.pow(10, Math.floor(Math.log10(span / 5)));
    [1, 2, 5, 10].some(function (m) {
      if (span / (step * m) <= 6) { step = step * m; return true; } return false;
    });
    for (var t = Math.ceil(lo / step) * step; t <= hi + 1e-12; t += step) {
      out.push(log ? Math.pow(10, t) : Math.abs(t) < step * 1e-9 ? 0 : t);
    }
    return out;
  }
  var STOPS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  function viridis(t) {
    if (t === null || !isFinite(t)) return "#98a2b3";
    t = Math.max(0, Math.min(1, t)) * (STOPS.length - 1);
    var i = Math.min(Math.floor(t), STOPS.length - 2), f = t - i;
    var c = STOPS[i].map(function (a, k) { return Math.round(a + f * (STOPS[i + 1][k] - a)); });
    return "rgb(" + c.join(",") + ")";
  }
  function colourScale(values, allowLog) {
    var log = allowLog && useLog(values);
    var v = finite(values).filter(function (x) { return !log || x > 0; });
    if (!v.length) return function () { return "#98a2b3"; };
    var f = function (x) { return log ? Math.log10(x) : x; };
    var lo = f(Math.min.apply(null, v)), hi = f(Math.max.apply(null, v));
    return function (x) {
      if (x === null || !isFinite(x) || (log && x <= 0)) return "#98a2b3";
      return viridis(hi > lo ? (f(x) - lo) / (hi - lo) : 0.5);
    };
  }
  function axes(svg, xs, ys, xlabel, ylabel) {
    var xlog = useLog(xs), ylog = useLog(ys);
    var xd = domain(xs, xlog), yd = domain(ys, ylog);
    var sx = scaler(xd, M.left, W - M.right, xlog), sy = scaler(yd, H - M.bottom, M.top, ylog);
    var g = svgEl("g", {"class": "axis"}, svg);
    svgEl("line", {x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom}, g);
    svgEl("line", {x1: M.left, x2: M.left, y1: M.top, y2: H - M.bottom}, g);
    ticks(xd, xlog).forEach(function (t) {
      var x = sx(t); if (x === null) return;
      svgEl("line", {x1: x, x2: x, y1: M.top, y2: H - M.bottom, "class": "grid"}, svg);
      svgEl("line", {x1: x, x2: x, y1: H - M.bottom, y2: H - M.bottom + 5}, g);
      svgEl("text", {x: x, y: H - M.bottom + 18, "text-anchor": "middle"}, g).textContent = fmt(t);
    });
    ticks(yd, ylog).forEach(function (t) {
      var y = sy(t); if (y === null) return;
      svgEl("line", {x1: M.left, x2: W - M.right, y1: y, y2: y, "class": "grid"}, svg);
      svgEl("line", {x1: M.left - 5, x2: M.left, y1: y, y2: y}, g);
      svgEl("text", {x: M.left - 8, y: y + 4, "text-anchor": "end"}, g).textContent = fmt(t);
    });
    svgEl("text", {x: (M.left + W - M.right) / 2, y: H - 8, "text-anchor": "middle",
                   "class": "label"}, svg).textContent = xlabel + (xlog ? " (log)" : "");
    svgEl("text", {x: 14, y: (M.top + H - M.bottom) / 2, "text-anchor": "middle",
                   "class": "label",
                   transform: "rotate(-90 14 " + (M.top + H - M.bottom) / 2 + ")"},
          svg).textContent = ylabel + (ylog ? " (log)" : "");
    return {x: sx, y: sy};
  }
  function empty(svg, text) {
    svgEl("text", {x: W / 2, y: H / 2, "text-anchor": "middle", "class": "empty"}, svg)
      .textContent = text;
  }

  function renderProgress(p) {
    var node = $("progress");
    node.dataset.finished = p.finished;
    node.dataset.total = p.total;
    node.textContent = p.total === 0 ? "No runs planned or published yet." :
      p.finished + " of " + p.total + " runs finished: " + p.done + " done, " +
      p.diverged + " diverged, " + p.failed + " failed, " + p.pending + " pending";
    var bar = $("progress-bar");
    clear(bar);
    ["done", "diverged", "failed", "pending"].forEach(function (k) {
      if (!p.total || !p[k]) return;
      var seg = htmlEl("span", null, bar, "seg-" + k);
      seg.title = p[k] + " " + k;
      seg.style.width = (100 * p[k] / p.total) + "%";
    });
  }

  function renderFailures(list) {
    var box = $("failures");
    clear(box);
    if (!list.length) { htmlEl("p", "No failed or diverged runs.", box, "note"); return; }
    var table = htmlEl("table", null, box), head = htmlEl("tr", null, htmlEl("thead", null, table));
    ["status", "run", "reason", "parameters"].forEach(function (h) { htmlEl("th", h, head); });
    var body = htmlEl("tbody", null, table);
    list.forEach(function (r) {
      var row = htmlEl("tr", null, body);
      htmlEl("td", r.status, row, "status-" + r.status);
      htmlEl("td", r.run_id, row);
      htmlEl("td", r.reason || "", row);
      htmlEl("td", Object.keys(r.params).map(function (k) {
        return k + "=" + r.params[k]; }).join(", "), row);
    });
  }

  function renderPhase(phase, obs) {
    var svg = $("phase");
    clear(svg);
    var pts = phase.points, legend = $("phase-legend");
    var filled = pts.filter(function (p) {
      return p.status === "done" || p.status === "diverged"; }).length;
    svg.dataset.filled = filled;
    svg.dataset.points = pts.length;
    if (!phase.x || !pts.length) {
      empty(svg, "No swept parameter yet.");
      legend.textContent = "";
      return;
    }
    var twoD = !!phase.y;
    var ys = pts.map(function (p) { return twoD ? p.y : p.value; });
    var s = axes(svg, pts.map(function (p) { return p.x; }), ys, words(phase.x),
                 twoD ? words(phase.y) : "late-time " + words(obs));
    var colour = colourScale(pts.map(function (p) { return p.value; }), false);
    var seen = {};
    pts.forEach(function (p) {
      var x = s.x(p.x), y = twoD ? s.y(p.y) : s.y(p.value);
      if (x === null) return;
      if (y === null) y = H - M.bottom - 6;
      var key = Math.round(x) + ":" + Math.round(y);
      var k = seen[key] = (seen[key] || 0) + 1;
      x += (k - 1) * 7;
      var attrs = {cx: x, cy: y, r: twoD ? 7 : 5, "class": "pt pt-" + p.status};
      if (p.status === "done") attrs.fill = colour(p.value);
      if (p.status === "diverged") attrs.fill = p.value === null ? "#e8a33d" : colour(p.value);
      var c = svgEl("circle", attrs, svg);
      svgEl("title", {}, c).textContent = p.run_id + " (" + p.status + "): " +
        words(phase.x) + " = " + fmt(p.x) + (twoD ? ", " + words(phase.y) + " = " + fmt(p.y) : "") +
        ", late-time " + words(obs) + " = " + fmt(p.value);
    });
    var values = finite(pts.map(function (p) { return p.value; }));
    legend.textContent = filled + " of " + pts.length + " runs in. Filled: finished" +
      (values.length ? " (colour: late-time " + words(obs) + " from " +
       fmt(Math.min.apply(null, values)) + ", dark, to " + fmt(Math.max.apply(null, values)) +
       ", light)" : "") + "; dashed: pending; red: failed; brown ring: diverged.";
  }

  function renderTrajectories(tr) {
    var svg = $("trajectories");
    clear(svg);
    var runs = tr.runs, legend = $("trajectories-legend");
    svg.dataset.runs = runs.length;
    if (!runs.length) { empty(svg, "No finished runs yet."); legend.textContent = ""; return; }
    var xs = [], ys = [];
    runs.forEach(function (r) { xs = xs.concat(r.steps); ys = ys.concat(r.values); });
    var s = axes(svg, xs, ys, "step", words(tr.observable));
    var colour = colourScale(runs.map(function (r) { return r.control; }), true);
    runs.forEach(function (r) {
      var d = "", pen = "M";
      for (var i = 0; i < r.steps.length; i++) {
        var x = s.x(r.steps[i]), y = s.y(r.values[i]);
        if (x === null || y === null) { pen = "M"; continue; }
        d += pen + x.toFixed(1) + " " + y.toFixed(1) + " ";
        pen = "L";
      }
      if (!d) return;
      var path = svgEl("path", {d: d, stroke: colour(r.control),
                                "class": "traj traj-" + r.status}, svg);
      svgEl("title", {}, path).textContent = r.run_id + ": " + words(tr.control) + " = " +
        fmt(r.control);
    });
    var controls = finite(runs.map(function (r) { return r.control; }));
    legend.textContent = runs.length + (tr.n_runs > runs.length ? " of " + tr.n_runs : "") +
      " finished runs" + (controls.length ? "; colour: " + words(tr.control) + " from " +
      fmt(Math.min.apply(null, controls)) + " (dark) to " + fmt(Math.max.apply(null, controls)) +
      " (light)" : "") + "; dashed: diverged.";
  }

  function renderObservables(list, chosen) {
    var select = $("observable");
    var current = Array.prototype.map.call(select.options, function (o) { return o.value; });
    if (current.join("\n") !== list.join("\n")) {
      clear(select);
      list.forEach(function (name) { htmlEl("option", name, select).value = name; });
    }
    if (chosen) select.value = chosen;
  }

  function renderVerdict(a) {
    var box = $("verdict");
    clear(box);
    box.dataset.state = a.state;
    var s = a.summary;
    if (s) {
      var dl = htmlEl("dl", null, box);
      function row(k, v) { htmlEl("dt", k, dl); htmlEl("dd", v, dl); }
      row("transition", s.order === "first" || s.order === "second" ?
          s.order + " order" : s.order);
      row("critical point", s.critical_point ? words(s.control) + " = " + s.critical_point
          : "none");
      row("universality", s.universality);
      row("order parameter", (s.absolute ? "|" + s.order_parameter + "|" : s.order_parameter) +
          " against " + words(s.control) + (s.size ? ", size " + words(s.size) : ""));
      if (s.evidence && s.evidence.length) {
        var ul = htmlEl("ul", null, box);
        s.evidence.forEach(function (e) { htmlEl("li", e, ul); });
      }
      if (s.slice) htmlEl("p", s.slice, box, "note");
      htmlEl("p", "Analysis of " + a.analysed_runs + " finished runs (" + s.n_bootstrap +
             " bootstrap replicates" + (a.seconds !== null ? ", " + a.seconds + " s" : "") +
             ")" + (a.updating ? "; updating with " + a.runs + " runs…" : "") +
             (a.state === "failed" ? "; the latest update failed: " + a.message : "") + ".",
             box, "note");
    } else {
      htmlEl("p", a.state === "running" ? a.message + "…" : a.message, box,
             a.state === "failed" ? "" : "note");
    }
  }

  function render(s) {
    version = s.version;
    observable = s.observable;
    $("store").textContent = s.store;
    renderProgress(s.progress);
    renderVerdict(s.analysis);
    renderObservables(s.observables, s.observable);
    renderPhase(s.phase, s.observable);
    renderTrajectories(s.trajectories);
    renderFailures(s.failures);
    document.body.dataset.version = s.version;
  }

  function setLive(ok) {
    var live = $("live");
    live.dataset.live = ok ? "yes" : "no";
    live.textContent = ok ? "live" : "reconnecting";
  }

  function load() {
    if (loading) { again = true; return; }
    loading = true;
    var q = observable ? "?observable=" + encodeURIComponent(observable) : "";
    fetch("/api/state" + q, {cache: "no-store"})
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(render)
      .catch(function () { setLive(false); })
      .then(function () {
        loading = false;
        if (again) { again = false; load(); }
      });
  }

  $("observable").addEventListener("change", function (e) {
    observable = e.target.value;
    load();
  });
  var events = new EventSource("/api/events");
  events.addEventListener("open", function () { setLive(true); });
  events.addEventListener("error", function () { setLive(false); });
  events.addEventListener("state", function (e) {
    setLive(true);
    if (JSON.parse(e.data).version !== version) load();
  });
  load();
})();
"""
