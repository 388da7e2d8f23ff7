// lateral's HTML report: reads the findings from the JSON element, lists
// the incidents, draws the selected incident's movement graph (a layered
// left-to-right layout by attack order, written here) and a zoomable
// timeline, and filters everything by severity, host, user, technique
// and time. Loaded with #selftest, it writes a self-check into
// <pre id="selftest"> for the browser test. Nothing is fetched.
"use strict";
(function () {
  var errors = [];
  window.addEventListener("error", function (e) {
    errors.push(String(e.message || e));
  });
  var origError = console.error;
  console.error = function () {
    errors.push(Array.prototype.join.call(arguments, " "));
    origError.apply(console, arguments);
  };

  var SVG = "http://www.w3.org/2000/svg";
  var SEV = { low: 0, medium: 1, high: 2, critical: 3 };
  var PROTO = {
    "T1021.001": "RDP", "T1021.002": "SMB", "T1021.003": "DCOM", "T1021.004": "SSH",
    "T1021.005": "VNC", "T1021.006": "WinRM", "T1021": "remote service",
    "T1071": "C2", "T1046": "scan", "T1078": "account", "T1550.002": "pass the hash",
    "T1110.001": "guessing", "T1110.003": "spray", "T1569.002": "service",
    "T1074": "staging", "T1041": "exfiltration"
  };
  var ROLE_STYLE = {
    entry: { shape: "diamond", fill: "#d62839", label: "entry (first layer of the path)" },
    pivot: { shape: "square", fill: "#f08a24", label: "pivot (reached, then moved on)" },
    target: { shape: "circle", fill: "#7a0019", label: "target (last layer reached)" },
    external: { shape: "triangle", fill: "#6c757d", label: "external address" },
    context: { shape: "circle", fill: "#9aa5b4", label: "other host in the incident" }
  };

  var data = JSON.parse(document.getElementById("lateral-data").textContent);
  var alerts = data.alerts || [];
  var incidents = data.incidents || [];
  var techniques = data.techniques || {};
  function techName(id) { return (techniques[id] || [id])[0]; }
  var selected = 0;
  var view = null; // timeline domain [t0, t1] in ms, or null for the incident's span

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function sv(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function ms(t) { return Date.parse(t); }
  function hhmm(t) { return String(t).slice(0, 16).replace("T", " "); }
  function lc(s) { return String(s || "").toLowerCase(); }
  function shq(s) { return "'" + String(s).replace(/'/g, "'\\''") + "'"; }

  // Filters -----------------------------------------------------------
  function filters() {
    var from = document.getElementById("f-from").value.trim();
    var to = document.getElementById("f-to").value.trim();
    return {
      sev: SEV[document.getElementById("f-sev").value] || 0,
      host: lc(document.getElementById("f-host").value.trim()),
      user: lc(document.getElementById("f-user").value.trim()),
      tech: document.getElementById("f-tech").value,
      from: from ? ms(from) : NaN,
      to: to ? ms(to) : NaN
    };
  }
  function alertPasses(a, f) {
    if (SEV[a.sev] < f.sev) return false;
    if (f.host && lc(a.src).indexOf(f.host) < 0 && lc(a.dst).indexOf(f.host) < 0) return false;
    if (f.user && lc(a.user).indexOf(f.user) < 0) return false;
    if (f.tech && a.tech !== f.tech && a.tech.indexOf(f.tech + ".") !== 0) return false;
    if (!isNaN(f.from) && ms(a.end) < f.from) return false;
    if (!isNaN(f.to) && ms(a.start) > f.to) return false;
    return true;
  }
  function shownAlerts(inc, f) {
    var out = [];
    for (var i = 0; i < inc.alerts.length; i++) {
      var a = alerts[inc.alerts[i]];
      if (a && alertPasses(a, f)) out.push(a);
    }
    return out;
  }

  // Incident list -----------------------------------------------------
  function renderList() {
    var f = filters();
    var nav = document.getElementById("incidents");
    nav.textContent = "";
    var shown = 0, shownAlertCount = 0, firstShown = -1;
    incidents.forEach(function (inc, i) {
      var as = shownAlerts(inc, f);
      if (!as.length) return;
      shown++;
      shownAlertCount += as.length;
      if (firstShown < 0) firstShown = i;
      var d = el("div", { "class": "inc" + (i === selected ? " selected" : ""), "data-incident": inc.id });
      var hdr = el("div", { "class": "hdr" }, "#" + inc.rank + " " + inc.id + " ");
      hdr.appendChild(el("span", { "class": "sev sev-" + inc.sev }, inc.sev + " " + inc.score));
      d.appendChild(hdr);
      var hosts = inc.path.map(function (l) { return l.join(", "); }).join(" \u2192 ");
      d.appendChild(el("div", { "class": "sub" }, hhmm(inc.start) + " \u00b7 " + as.length + " of " + inc.alerts.length + " alerts"));
      if (hosts) d.appendChild(el("div", { "class": "sub" }, hosts));
      d.addEventListener("click", function () { selected = i; view = null; render(); });
      nav.appendChild(d);
    });
    document.getElementById("f-count").textContent =
      shown + " of " + incidents.length + " incidents, " + shownAlertCount + " alerts shown";
    document.getElementById("incidents").setAttribute("data-shown", String(shown));
    document.getElementById("incidents").setAttribute("data-shown-alerts", String(shownAlertCount));
    if (shown && (selected >= incidents.length || !shownAlerts(incidents[selected], f).length)) {
      selected = firstShown;
      return renderList();
    }
    return shown;
  }

  // Graph: layered left to right by attack order -----------------------
  function isExternal(label) {
    var m = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(label);
    if (!m) return false;
    var a = +m[1], b = +m[2];
    return !(a === 10 || a === 127 || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168));
  }
  function layout(inc, shown) {
    var layer = {}, role = {}, order = [];
    inc.path.forEach(function (hosts, depth) {
      hosts.forEach(function (h) {
        if (!(h in layer)) { layer[h] = depth; order.push(h); }
      });
    });
    var last = inc.path.length - 1;
    var reached = {}, left = {};
    inc.hops.forEach(function (h) { reached[h.dst] = true; left[h.src] = true; });
    Object.keys(layer).forEach(function (h) {
      role[h] = layer[h] === 0 ? "entry" : (left[h] ? "pivot" : (layer[h] === last || reached[h] ? "target" : "pivot"));
    });
    var edges = {}, list = [];
    function edge(src, dst, tech, t, a) {
      if (!src || !dst) return;
      var k = src + "\u0000" + dst + "\u0000" + tech;
      if (!edges[k]) { edges[k] = { src: src, dst: dst, tech: tech, first: t, count: 0, ids: [], order: 0 }; list.push(edges[k]); }
      var e = edges[k];
      if (t < e.first) e.first = t;
      e.count++;
      if (a) e.ids.push(a.id);
    }
    // Path edges: one per (from, to, technique) the hops take, numbered
    // by the time the attack first took them.
    var hopEdges = [];
    inc.hops.forEach(function (h, i) {
      edge(h.src, h.dst, h.tech, h.t, null);
      var e = edges[h.src + "\u0000" + h.dst + "\u0000" + h.tech];
      if (!e.hopFirst) { e.hopFirst = h.t; e.hopIndex = i; hopEdges.push(e); }
      else if (h.t < e.hopFirst) e.hopFirst = h.t;
    });
    hopEdges.sort(function (a, b) {
      return a.hopFirst < b.hopFirst ? -1 : a.hopFirst > b.hopFirst ? 1 : a.hopIndex - b.hopIndex;
    });
    hopEdges.forEach(function (e, i) { e.order = i + 1; });
    shown.forEach(function (a) { edge(a.src, a.dst, a.tech, a.start, a); });
    list.forEach(function (e) {
      [e.src, e.dst].forEach(function (h) {
        if (h in layer) return;
        var other = h === e.src ? e.dst : e.src;
        layer[h] = other in layer ? layer[other] + (h === e.dst ? 1 : -1) : 0;
        role[h] = isExternal(h) ? "external" : "context";
        order.push(h);
      });
    });
    var min = 0;
    order.forEach(function (h) { if (layer[h] < min) min = layer[h]; });
    var cols = {};
    order.forEach(function (h) { var c = layer[h] - min; (cols[c] = cols[c] || []).push(h); });
    var pos = {}, W = 260, H = 64, maxRows = 1;
    Object.keys(cols).forEach(function (c) {
      cols[c].sort();
      maxRows = Math.max(maxRows, cols[c].length);
      cols[c].forEach(function (h, r) { pos[h] = { x: 80 + (+c) * W, y: 40 + r * H }; });
    });
    var ncols = Object.keys(cols).length;
    return { pos: pos, role: role, edges: list, width: 160 + ncols * W, height: 60 + maxRows * H, order: order, layer: layer };
  }
  function nodeShape(g, style, x, y) {
    var s;
    if (style.shape === "diamond") s = sv("polygon", { points: [x, y - 13, x + 13, y, x, y + 13, x - 13, y].join(" ") });
    else if (style.shape === "square") s = sv("rect", { x: x - 11, y: y - 11, width: 22, height: 22 });
    else if (style.shape === "triangle") s = sv("polygon", { points: [x, y - 13, x + 13, y + 10, x - 13, y + 10].join(" ") });
    else s = sv("circle", { cx: x, cy: y, r: 11 });
    s.setAttribute("fill", style.fill);
    g.appendChild(s);
  }
  function renderGraph(inc, shown) {
    var svg = document.getElementById("graph");
    svg.textContent = "";
    var L = layout(inc, shown);
    svg.setAttribute("width", L.width);
    svg.setAttribute("height", L.height);
    var defs = sv("defs");
    [["arrow-path", "#b3001b"], ["arrow-context", "#9aa5b4"]].forEach(function (m) {
      var mk = sv("marker", { id: m[0], viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" });
      mk.appendChild(sv("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: m[1] }));
      defs.appendChild(mk);
    });
    svg.appendChild(defs);
    var sorted = L.edges.slice().sort(function (a, b) {
      return (a.order || 1e9) - (b.order || 1e9) || (a.first < b.first ? -1 : a.first > b.first ? 1 : 0);
    });
    // Edges between one pair of hosts share a label and fan out.
    var pairs = {};
    sorted.forEach(function (e) {
      var k = e.src + "\u0000" + e.dst;
      (pairs[k] = pairs[k] || []).push(e);
    });
    Object.keys(pairs).forEach(function (k, pi) {
      var group = pairs[k];
      var a = L.pos[group[0].src], b = L.pos[group[0].dst];
      if (!a || !b) return;
      var same = group[0].src === group[0].dst;
      var dx = b.x - a.x, dy = b.y - a.y, len = Math.sqrt(dx * dx + dy * dy) || 1;
      var x1 = a.x + dx / len * 14, y1 = a.y + dy / len * 14, x2 = b.x - dx / len * 14, y2 = b.y - dy / len * 14;
      var anyPath = false, orders = [], protos = [], first = null, lx = 0, ly = 0;
      group.forEach(function (e, i) {
        var path = e.order > 0;
        anyPath = anyPath || path;
        if (path) orders.push(e.order);
        var pr = PROTO[e.tech] || e.tech;
        if (protos.indexOf(pr) < 0) protos.push(pr);
        var t = e.hopFirst || e.first;
        if (first === null || t < first) first = t;
        var bend = (i - (group.length - 1) / 2) * 10 + (path ? 0 : 16 + (pi % 3) * 6);
        var mx = (x1 + x2) / 2 - dy / len * bend, my = (y1 + y2) / 2 + dx / len * bend;
        if (i === 0) { lx = (x1 + x2) / 2; ly = (y1 + y2) / 2; }
        var d = same ? "M " + (a.x + 10) + " " + (a.y - 10) + " C " + (a.x + 40) + " " + (a.y - 50) + " " + (a.x - 40) + " " + (a.y - 50) + " " + (a.x - 10) + " " + (a.y - 10)
          : "M " + x1 + " " + y1 + " Q " + mx + " " + my + " " + x2 + " " + y2;
        var p = sv("path", { d: d, "class": "edge " + (path ? "path" : "context"), "marker-end": "url(#arrow-" + (path ? "path" : "context") + ")",
          "data-src": e.src, "data-dst": e.dst, "data-order": String(e.order || 0), "data-tech": e.tech, "data-first": e.hopFirst || e.first });
        p.appendChild(sv("title", {}, (path ? e.order + ". " : "") + e.src + " \u2192 " + e.dst + ": " + e.tech + " " + (PROTO[e.tech] || "") + ", first " + hhmm(e.hopFirst || e.first) + ", " + e.count + " alert(s)"));
        svg.appendChild(p);
      });
      var lbl = (orders.length ? orders.sort(function (x, y) { return x - y; }).join(",") + ". " : "") + protos.join("/") + " " + hhmm(first).slice(11);
      var txt = sv("text", { x: lx, y: ly - 6, "text-anchor": "middle", fill: anyPath ? "#b3001b" : "#6b7785", "class": "edge-label" }, lbl);
      svg.appendChild(txt);
    });
    L.order.forEach(function (h) {
      var p = L.pos[h], style = ROLE_STYLE[L.role[h]] || ROLE_STYLE.context;
      var g = sv("g", { "class": "node " + (L.role[h] === "context" || L.role[h] === "external" ? "context" : "path"), "data-host": h, "data-role": L.role[h], "data-layer": String(L.layer[h]) });
      nodeShape(g, style, p.x, p.y);
      g.appendChild(sv("text", { x: p.x, y: p.y + 26, "text-anchor": "middle" }, h));
      g.appendChild(sv("title", {}, h + " (" + L.role[h] + ")"));
      svg.appendChild(g);
    });
    var legend = document.getElementById("legend");
    legend.textContent = "";
    Object.keys(ROLE_STYLE).forEach(function (r) {
      var s = el("span", {}, "\u25cf " + ROLE_STYLE[r].label + "   ");
      s.style.color = ROLE_STYLE[r].fill;
      legend.appendChild(s);
    });
    legend.appendChild(el("span", {}, "Red numbered edges: the attack path in order; grey: other alerts of the incident."));
  }

  // Timeline ----------------------------------------------------------
  function renderTimeline(inc, shown) {
    var svg = document.getElementById("timeline");
    svg.textContent = "";
    var W = Math.max(600, (document.getElementById("timeline-wrap").clientWidth || 900) - 20);
    var rowH = 18, top = 24, left = 230;
    var rows = shown.slice(0, 200);
    svg.setAttribute("width", W);
    svg.setAttribute("height", top + rows.length * rowH + 10);
    if (!rows.length) return;
    var t0 = Infinity, t1 = -Infinity;
    rows.forEach(function (a) { t0 = Math.min(t0, ms(a.start)); t1 = Math.max(t1, ms(a.end)); });
    if (t1 <= t0) t1 = t0 + 60000;
    var dom = view || [t0 - (t1 - t0) * 0.02, t1 + (t1 - t0) * 0.02];
    var x = function (t) { return left + (t - dom[0]) / (dom[1] - dom[0]) * (W - left - 10); };
    for (var k = 0; k <= 4; k++) {
      var t = dom[0] + (dom[1] - dom[0]) * k / 4;
      svg.appendChild(sv("text", { x: x(t), y: 12, "text-anchor": "middle", "font-size": "10" }, new Date(t).toISOString().slice(0, 19).replace("T", " ")));
      svg.appendChild(sv("line", { x1: x(t), x2: x(t), y1: 16, y2: top + rows.length * rowH, stroke: "#e3e6ea" }));
    }
    rows.forEach(function (a, i) {
      var y = top + i * rowH;
      var g = sv("g", { "class": "tl-alert", "data-alert": a.id });
      g.appendChild(sv("text", { x: 4, y: y + 12, "font-size": "11" }, (a.src || "?") + " \u2192 " + (a.dst || "?") + " " + a.tech));
      var xa = Math.max(left, x(ms(a.start))), xb = Math.min(W - 10, Math.max(x(ms(a.end)), xa + 3));
      if (xb >= left && xa <= W - 10) {
        var r = sv("rect", { x: xa, y: y + 3, width: Math.max(3, xb - xa), height: rowH - 6, "class": "sev-" + a.sev });
        r.appendChild(sv("title", {}, a.rule + " (" + a.score + "): " + a.msg));
        g.appendChild(r);
      }
      a.ev.forEach(function (e) {
        var xe = x(ms(e.t));
        if (xe >= left && xe <= W - 10) g.appendChild(sv("line", { x1: xe, x2: xe, y1: y + 1, y2: y + rowH - 1, stroke: "#1d2330" }));
      });
      svg.appendChild(g);
    });
    svg.onwheel = function (ev) {
      ev.preventDefault();
      var rect = svg.getBoundingClientRect();
      var at = dom[0] + (ev.clientX - rect.left - left) / (W - left - 10) * (dom[1] - dom[0]);
      var f = ev.deltaY < 0 ? 0.8 : 1.25;
      view = [at - (at - dom[0]) * f, at + (dom[1] - at) * f];
      renderTimeline(inc, shown);
    };
    svg.onmousedown = function (ev) {
      var startX = ev.clientX, d0 = dom.slice();
      function move(m) {
        var shift = (m.clientX - startX) / (W - left - 10) * (d0[1] - d0[0]);
        view = [d0[0] - shift, d0[1] - shift];
        renderTimeline(inc, shown);
      }
      function up() { window.removeEventListener("mousemove", move); window.removeEventListener("mouseup", up); }
      window.addEventListener("mousemove", move);
      window.addEventListener("mouseup", up);
    };
    svg.ondblclick = function () { view = null; renderTimeline(inc, shown); };
  }

  // Alerts with evidence ----------------------------------------------
  function eventsCommand(file, e) {
    var id = e.l !== null && e.l !== undefined ? file + ":" + e.l : file + "@" + e.o;
    return "lateral events " + shq(file) + " | jq -c " + shq("select(.event.id == " + JSON.stringify(id) + ")");
  }
  function renderAlerts(shown) {
    var box = document.getElementById("alerts");
    box.textContent = "";
    shown.slice(0, 300).forEach(function (a) {
      var d = el("div", { "class": "alert", "data-alert": a.id });
      var h = el("div", {});
      h.appendChild(el("span", { "class": "sev sev-" + a.sev }, a.sev + " " + a.score));
      h.appendChild(document.createTextNode(" " + hhmm(a.start) + "  " + a.rule + "  " + (a.src || "?") + " \u2192 " + (a.dst || "?") +
        (a.port ? ":" + a.port : "") + (a.user ? " as " + a.user : "") + "  " + a.tech + " " + techName(a.tech) + "  "));
      h.appendChild(el("span", { "class": "dim" }, a.id));
      d.appendChild(h);
      d.appendChild(el("p", { "class": "msg" }, a.msg));
      var t = el("table");
      a.ev.forEach(function (e) {
        var file = e.f === null || e.f === undefined ? "-" : data.files[e.f];
        var tr = el("tr");
        tr.appendChild(el("td", {}, hhmm(e.t)));
        tr.appendChild(el("td", {}, e.k));
        tr.appendChild(el("td", {}, file + (e.l != null ? " line " + e.l : e.o != null ? " byte " + e.o : "")));
        tr.appendChild(el("td", {}, e.s));
        var cell = el("td");
        if (file !== "-") {
          var cmd = eventsCommand(file, e);
          cell.appendChild(el("code", { "class": "cmd" }, cmd));
          var b = el("button", { "class": "copy", type: "button" }, "copy");
          b.addEventListener("click", function () {
            if (navigator.clipboard) navigator.clipboard.writeText(cmd).catch(function () {});
          });
          cell.appendChild(b);
        }
        tr.appendChild(cell);
        t.appendChild(tr);
      });
      d.appendChild(t);
      if (a.evTotal > a.ev.length) d.appendChild(el("p", { "class": "dim" }, (a.evTotal - a.ev.length) + " more records (the --json alerts list up to 32)"));
      box.appendChild(d);
    });
    if (shown.length > 300) box.appendChild(el("p", { "class": "dim" }, (shown.length - 300) + " more alerts: narrow the filters"));
  }

  function render() {
    var shown = renderList();
    var inc = incidents[selected];
    var f = filters();
    if (!shown || !inc) {
      document.getElementById("inc-title").textContent = "No incident matches the filters";
      document.getElementById("inc-story").textContent = "";
      document.getElementById("graph").textContent = "";
      document.getElementById("timeline").textContent = "";
      document.getElementById("alerts").textContent = "";
      return;
    }
    var as = shownAlerts(inc, f);
    document.getElementById("inc-title").textContent = "#" + inc.rank + " " + inc.id + "  score " + inc.score + " (" + inc.sev + ")  " +
      hhmm(inc.start) + " .. " + hhmm(inc.end) + "  techniques: " + inc.techs.join(", ") + (inc.users.length ? "  users: " + inc.users.join(", ") : "");
    document.getElementById("inc-story").textContent = inc.story;
    renderGraph(inc, as);
    renderTimeline(inc, as);
    renderAlerts(as);
  }

  // Setup ---------------------------------------------------------------
  var sel = document.getElementById("f-tech");
  Object.keys(techniques).sort().forEach(function (t) { sel.appendChild(el("option", { value: t }, t + " " + techName(t))); });
  document.getElementById("title-count").textContent = incidents.length + " incident" + (incidents.length === 1 ? "" : "s") + " from " + alerts.length + " alert" + (alerts.length === 1 ? "" : "s");
  document.getElementById("summary").textContent = [data.command, (data.inputs || []).join(" "), data.summary].join("  ").trim();
  ["f-sev", "f-tech"].forEach(function (id) { document.getElementById(id).addEventListener("change", function () { view = null; render(); }); });
  ["f-host", "f-user", "f-from", "f-to"].forEach(function (id) { document.getElementById(id).addEventListener("input", function () { view = null; render(); }); });
  document.getElementById("f-reset").addEventListener("click", function () {
    ["f-host", "f-user", "f-from", "f-to"].forEach(function (id) { document.getElementById(id).value = ""; });
    document.getElementById("f-sev").value = "low";
    document.getElementById("f-tech").value = "";
    selected = 0; view = null; render();
  });
  render();

  // Self-check for the browser test -------------------------------------
  if (location.hash.indexOf("selftest") >= 0) {
    var result = {};
    try {
      var nav = document.getElementById("incidents");
      result.incidents = incidents.length;
      result.alerts = alerts.length;
      result.listed = nav.querySelectorAll(".inc").length;
      result.shownAlerts = +nav.getAttribute("data-shown-alerts");
      var graph = document.getElementById("graph");
      var nodes = Array.prototype.slice.call(graph.querySelectorAll("g.node.path")).map(function (g) {
        return { host: g.getAttribute("data-host"), layer: +g.getAttribute("data-layer"), role: g.getAttribute("data-role") };
      });
      var edges = Array.prototype.slice.call(graph.querySelectorAll("path.edge.path")).map(function (p) {
        return { order: +p.getAttribute("data-order"), src: p.getAttribute("data-src"), dst: p.getAttribute("data-dst"), tech: p.getAttribute("data-tech"), first: p.getAttribute("data-first") };
      }).sort(function (a, b) { return a.order - b.order; });
      result.first = incidents.length ? { id: incidents[0].id, nodes: nodes, edges: edges,
        contextEdges: graph.querySelectorAll("path.edge.context").length,
        timelineRows: document.querySelectorAll("#timeline g.tl-alert").length,
        commands: document.querySelectorAll("#alerts code.cmd").length } : null;
      var setSev = function (v) { document.getElementById("f-sev").value = v; document.getElementById("f-sev").dispatchEvent(new Event("change")); };
      var counts = function () { return { incidents: nav.querySelectorAll(".inc").length, alerts: +nav.getAttribute("data-shown-alerts") }; };
      result.filters = { none: counts() };
      setSev("critical");
      result.filters.critical = counts();
      setSev("low");
      var host = document.getElementById("f-host");
      host.value = "no-such-host-anywhere";
      host.dispatchEvent(new Event("input"));
      result.filters.noHost = counts();
      host.value = "";
      host.dispatchEvent(new Event("input"));
      var until = document.getElementById("f-to");
      until.value = "1970-01-02T00:00:00Z";
      until.dispatchEvent(new Event("input"));
      result.filters.before1970 = counts();
      until.value = "";
      until.dispatchEvent(new Event("input"));
      result.filters.reset = counts();
    } catch (e) {
      errors.push("selftest: " + e);
    }
    result.errors = errors;
    var pre = document.getElementById("selftest");
    pre.textContent = JSON.stringify(result);
  }
})();
