// The live dashboard of `runtime live`. Everything comes from one WebSocket
// (`/ws`): a status push at most once a second (a delta after the first) and
// every runtime event as it happens. Control buttons call the ops API's
// POST routes with the token typed above (sessionStorage: kept for this tab,
// never put in a URL). Data is written with textContent only.
"use strict";

(function () {
  const ACTIONS = ["reload", "rollback", "pause", "resume", "halt", "unhalt"];
  const MAX_POINTS = 3600; // an hour of one-second samples per strategy
  const MAX_ITEMS = 300; // lines kept in the timeline and the event log
  const TOKEN_KEY = "sandbar.ops.token";

  const $ = (id) => document.getElementById(id);
  const metrics = { firstStatusMs: null, statusMessages: 0, events: 0, connects: 0, historyPoints: null };
  window.sandbarDashboard = metrics; // read by the browser tests

  const strategies = new Map(); // id -> latest status
  const rows = new Map(); // id -> <tr>
  const history = { t: [], equity: new Map(), pnl: new Map() };
  let access = { read: false, control: false, auth: "none", actor: null };
  let socket = null;
  let retryMs = 1000;
  let charts = { equity: null, pnl: null, ids: "" };

  // ---- token ---------------------------------------------------------------
  function token() {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  }
  $("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const value = $("token").value.trim();
    $("token").value = "";
    if (!value) return;
    sessionStorage.setItem(TOKEN_KEY, value);
    sendToken();
  });
  $("forget").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    if (socket) socket.close(1000, "token forgotten");
  });
  function sendToken() {
    if (socket && socket.readyState === WebSocket.OPEN && token()) {
      socket.send(JSON.stringify({ token: token() }));
    }
  }

  // ---- connection ----------------------------------------------------------
  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(scheme + "//" + location.host + "/ws");
    setConn("wait", "connecting…");
    socket.addEventListener("open", () => {
      metrics.connects += 1;
      retryMs = 1000;
      setConn("ok", "live");
      sendToken();
    });
    socket.addEventListener("message", (e) => {
      let m;
      try {
        m = JSON.parse(e.data);
      } catch (err) {
        notice("bad message from the runtime: " + err);
        return;
      }
      onMessage(m);
    });
    socket.addEventListener("close", (e) => {
      const why = e.reason ? " (" + e.reason + ")" : e.code === 1006 ? " (connection lost)" : "";
      setConn("bad", "disconnected");
      banner(
        "The runtime went away" + why + ". Retrying in " + Math.round(retryMs / 1000) +
          " s; the figures below are as last seen.",
        "bad"
      );
      setButtons();
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 10000);
    });
  }

  function onMessage(m) {
    switch (m.event) {
      case "hello":
      case "access":
        access = m.data;
        showAccess();
        if (!access.read) {
          banner("This runtime needs a token to read: type it above ([[ops.tokens]] in its config).", "info");
        } else {
          banner(null);
        }
        break;
      case "denied":
        notice((m.data.error || "denied") + (m.data.hint ? " — " + m.data.hint : ""), "rejected");
        break;
      case "status":
        onStatus(m.data);
        break;
      case "history":
        seedHistory(m.data);
        break;
      case "lagged":
        notice("missed " + m.data.missed + " events (the page fell behind)");
        break;
      default:
        metrics.events += 1;
        onEvent(m.event, m.data, !!m.backlog);
    }
  }

  // ---- status --------------------------------------------------------------
  function onStatus(data) {
    metrics.statusMessages += 1;
    if (data.full) strategies.clear();
    for (const s of data.strategies) strategies.set(s.id, s);
    for (const id of data.removed) {
      strategies.delete(id);
      const row = rows.get(id);
      if (row) row.remove();
      rows.delete(id);
    }
    renderSummary(data.status);
    renderTable();
    renderActivity();
    if (metrics.firstStatusMs === null) {
      metrics.firstStatusMs = performance.now();
      metrics.firstStatusStrategies = strategies.size;
    }
    sample();
  }

  function renderSummary(status) {
    const rt = status; // /status without its strategies
    $("run").textContent =
      "run " + (rt.run_id || "?") + " · " + (rt.profile || "") + " · up " + fmtDuration(status.uptime_seconds || 0);
    const cards = [
      ["strategies", strategies.size],
      ["bars", rt.bars],
      ["last seq", rt.last_seq],
      ["bars queued", rt.loop_lag ? rt.loop_lag.bars_queued : ""],
      ["loop lag p99 µs", rt.loop_lag && rt.loop_lag.age_us ? us(rt.loop_lag.age_us.p99) : ""],
      ["reloads ok / rejected", rt.reload_total ? rt.reload_total.swapped + " / " + rt.reload_total.rejected : ""],
      ["connections", status.ops ? status.ops.connections.open + " / " + status.ops.connections.max : ""],
    ];
    const box = $("summary");
    box.textContent = "";
    for (const [label, value] of cards) {
      const card = el("div", "card");
      card.appendChild(el("b", null, value === undefined ? "" : String(value)));
      card.appendChild(el("span", null, label));
      box.appendChild(card);
    }
  }

  function renderTable() {
    const body = document.querySelector("#strategies tbody");
    const ids = [...strategies.keys()].sort();
    $("count").textContent = "(" + ids.length + ")";
    for (const id of ids) {
      const s = strategies.get(id);
      let row = rows.get(id);
      if (!row) {
        row = newRow(id);
        rows.set(id, row);
      }
      fillRow(row, s);
    }
    // Keep the rows in id order.
    for (const id of ids) body.appendChild(rows.get(id));
  }

  function newRow(id) {
    const row = document.createElement("tr");
    row.dataset.id = id;
    for (let i = 0; i < 17; i++) row.appendChild(document.createElement("td"));
    const cell = document.createElement("td");
    cell.className = "actions";
    for (const action of ACTIONS) {
      const b = el("button", null, action);
      b.dataset.action = action;
      b.dataset.id = id;
      b.addEventListener("click", () => control(id, action));
      cell.appendChild(b);
    }
    row.appendChild(cell);
    return row;
  }

  function fillRow(row, s) {
    const c = row.children;
    const pnl = (s.realised_pnl || 0) + (s.unrealised_pnl || 0);
    const refused = Object.values(s.refused || {}).reduce((a, b) => a + b, 0);
    set(c[0], s.id);
    set(c[1], s.state, "state " + s.state);
    c[1].title = s.state_reason || "";
    set(c[2], "v" + s.version + (s.disk_differs ? " *" : ""));
    c[2].title = s.disk_differs ? "the file on disk is not the running version" : "loaded " + s.loaded_at;
    set(c[3], (s.sha256 || "").slice(0, 12), "sha");
    c[3].title = s.sha256 || "";
    set(c[4], s.bars, "n");
    set(c[5], s.orders, "n");
    set(c[6], s.fills, "n");
    set(c[7], s.trades, "n");
    set(c[8], money(s.equity), "n");
    set(c[9], money(s.realised_pnl), "n " + sign(s.realised_pnl));
    set(c[10], money(s.unrealised_pnl), "n " + sign(s.unrealised_pnl));
    set(c[11], us(s.latency_us && s.latency_us.p50), "n");
    set(c[12], us(s.latency_us && s.latency_us.p99), "n");
    set(c[13], us(s.feed_to_decision_us && s.feed_to_decision_us.p99), "n");
    const fuel = s.fuel_per_bar || {};
    set(c[14], fuel.samples ? fuel.p50 : "", "n");
    c[14].title = fuel.samples
      ? "p99 " + fuel.p99 + " · max " + fuel.max + " of " + fuel.limit + " (limits.fuel_per_bar)"
      : "";
    set(c[15], s.traps, "n" + (s.traps ? " neg" : ""));
    set(c[16], refused, "n");
    row.title = "PnL " + money(pnl);
    setRowButtons(row, s);
  }

  // What every strategy holds: positions, working orders, the last fills.
  function renderActivity() {
    const ids = [...strategies.keys()].sort();
    const positions = [], orders = [], fills = [];
    for (const id of ids) {
      const a = strategies.get(id).activity || {};
      for (const p of a.positions || []) positions.push([id, p]);
      for (const o of a.working_orders || []) orders.push([id, o]);
      for (const f of a.recent_fills || []) fills.push([id, f]);
    }
    fills.sort((x, y) => y[1].seq - x[1].seq || (x[0] < y[0] ? -1 : 1));
    fillTable("positions", positions, ([id, p]) => [
      [id], [p.symbol], [qty(p.quantity), "n " + sign(p.quantity)], [money(p.avg_price), "n"],
      [money(p.last_price), "n"], [money(p.unrealised_pnl), "n " + sign(p.unrealised_pnl)],
    ], "no open positions");
    fillTable("orders", orders, ([id, o]) => [
      [id], [o.id === undefined ? "" : String(o.id)], [o.symbol], [o.side], [qty(o.quantity), "n"], [o.kind],
      [levels(o), "n"], [o.tif || "one bar"],
    ], "no working orders");
    fillTable("fills", fills.slice(0, 50), ([id, f]) => [
      [id], [f.seq, "n"], [f.symbol], [f.side, f.side === "buy" ? "pos" : "neg"], [qty(f.quantity), "n"], [money(f.price), "n"],
    ], "no fills yet");
  }

  function fillTable(tableId, items, cells, empty) {
    const body = document.querySelector("#" + tableId + " tbody");
    body.textContent = "";
    if (!items.length) {
      const row = el("tr", "empty");
      const td = el("td", "muted", empty);
      td.colSpan = document.querySelectorAll("#" + tableId + " thead th").length;
      row.appendChild(td);
      body.appendChild(row);
      return;
    }
    for (const item of items) {
      const row = document.createElement("tr");
      row.dataset.strategy = item[0];
      for (const [text, cls] of cells(item)) row.appendChild(el("td", cls || null, text === undefined ? "" : String(text)));
      body.appendChild(row);
    }
  }

  function levels(o) {
    const parts = [];
    if (typeof o.limit_price === "number") parts.push("limit " + money(o.limit_price));
    if (typeof o.stop_price === "number") parts.push("stop " + money(o.stop_price));
    if (typeof o.trail_amount === "number") parts.push("trail " + money(o.trail_amount));
    if (typeof o.trail_percent === "number") parts.push("trail " + o.trail_percent + " %");
    if (o.oco_group !== undefined) parts.push("oco " + o.oco_group);
    if (o.parent !== undefined) parts.push("after " + o.parent);
    return parts.join(" · ");
  }

  function setRowButtons(row, s) {
    for (const b of row.querySelectorAll("button")) {
      const a = b.dataset.action;
      let allowed = access.control && (!socket || socket.readyState === WebSocket.OPEN);
      if (a === "pause") allowed = allowed && s.state === "running";
      if (a === "resume") allowed = allowed && s.state === "paused";
      if (a === "halt") allowed = allowed && s.state !== "halted";
      if (a === "unhalt") allowed = allowed && s.state === "halted";
      if (a === "rollback") allowed = allowed && (s.versions || []).length > 1;
      b.disabled = !allowed;
      b.title = access.control ? a + " " + s.id : "read-only: type a token above to " + a;
    }
  }

  function setButtons() {
    for (const [id, row] of rows) setRowButtons(row, strategies.get(id) || {});
  }

  // ---- charts --------------------------------------------------------------
  function sample() {
    const t = Date.now() / 1000;
    history.t.push(t);
    for (const [id, s] of strategies) {
      if (!history.equity.has(id)) {
        history.equity.set(id, new Array(history.t.length - 1).fill(null));
        history.pnl.set(id, new Array(history.t.length - 1).fill(null));
      }
      history.equity.get(id).push(s.equity);
      history.pnl.get(id).push((s.realised_pnl || 0) + (s.unrealised_pnl || 0));
    }
    for (const [id, values] of history.equity) {
      if (!strategies.has(id)) {
        values.push(null);
        history.pnl.get(id).push(null);
      }
    }
    trimHistory();
    scheduleDraw();
  }

  function trimHistory() {
    while (history.t.length > MAX_POINTS) {
      history.t.shift();
      for (const v of history.equity.values()) v.shift();
      for (const v of history.pnl.values()) v.shift();
    }
  }

  // After the table is on screen: the charts never delay its paint.
  let drawPending = false;
  function scheduleDraw() {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(() => {
      drawPending = false;
      drawCharts();
    });
  }

  // The curves the server kept before this page opened: put in front of the
  // samples taken since, so the charts start with the last minutes.
  function seedHistory(h) {
    const ts = h.t || [];
    const first = history.t.length ? history.t[0] : Infinity;
    const older = ts.filter((t) => t < first).length;
    const ids = new Set([...Object.keys(h.equity || {}), ...history.equity.keys()]);
    const live = history.t.length;
    for (const id of ids) {
      for (const which of ["equity", "pnl"]) {
        const before = ((h[which] || {})[id] || new Array(ts.length).fill(null)).slice(0, older);
        const since = history[which].get(id) || new Array(live).fill(null);
        history[which].set(id, before.concat(since));
      }
    }
    history.t = ts.slice(0, older).concat(history.t);
    trimHistory();
    metrics.historyPoints = older;
    scheduleDraw();
  }

  function drawCharts() {
    if (typeof uPlot === "undefined") return;
    const ids = [...history.equity.keys()].sort();
    const key = ids.join(",");
    const data = (which) => [history.t, ...ids.map((id) => history[which].get(id))];
    if (charts.ids !== key) {
      for (const c of [charts.equity, charts.pnl]) if (c) c.destroy();
      charts.equity = makeChart($("equity-chart"), ids, data("equity"));
      charts.pnl = makeChart($("pnl-chart"), ids, data("pnl"));
      charts.ids = key;
    } else {
      charts.equity.setData(data("equity"));
      charts.pnl.setData(data("pnl"));
    }
  }

  function makeChart(box, ids, data) {
    box.textContent = "";
    const width = Math.max(300, box.clientWidth - 4);
    const series = [{}].concat(
      ids.map((id, i) => ({
        label: id,
        stroke: "hsl(" + Math.round((i * 360) / Math.max(ids.length, 1)) + ",70%,60%)",
        width: 1.5,
        spanGaps: false,
      }))
    );
    const axis = { stroke: "#8a96a3", grid: { stroke: "#2a323c" }, ticks: { stroke: "#2a323c" } };
    const values = Object.assign({}, axis, { size: 70 });
    return new uPlot(
      { width, height: 240, series, scales: { x: { time: true } }, axes: [axis, values], legend: { live: false } },
      data,
      box
    );
  }

  window.addEventListener("resize", () => {
    for (const [c, box] of [[charts.equity, "equity-chart"], [charts.pnl, "pnl-chart"]]) {
      if (c) c.setSize({ width: Math.max(300, $(box).clientWidth - 4), height: 240 });
    }
  });

  // ---- events --------------------------------------------------------------
  function onEvent(kind, e, backlog) {
    const ts = (e.ts || "").slice(11, 23);
    if (kind === "reload") {
      const stages = Object.entries(e.duration_us || {})
        .map(([stage, v]) => stage + " " + ms(v))
        .join(" · ");
      const head = e.strategy + " " + e.outcome + " (" + e.trigger + ")" + (e.version ? " → v" + e.version : "");
      const detail = [stages, e.cache_hit ? "cache hit" : "", e.stage ? "failed at " + e.stage : "", e.error || "", e.hint ? "hint: " + e.hint : ""]
        .filter(Boolean)
        .join("\n");
      item($("timeline"), ts, "reload", head, detail, e.outcome, e.strategy);
    }
    let head = e.strategy + " ";
    let detail = "";
    switch (kind) {
      case "reload":
        head += e.outcome + (e.version ? " v" + e.version : "");
        detail = e.error || "";
        break;
      case "trap":
        head += e.kind + " in " + e.export + " at bar " + e.seq + " (v" + e.version + ", " + e.consecutive + " in a row)";
        detail = e.message;
        if (!backlog) flash(e.strategy);
        break;
      case "handoff":
        head += "v" + e.previous_version + " → v" + e.version + " by " + e.method + " at bar " + e.first_seq;
        break;
      case "state":
        head += e.previous + " → " + e.state + " by " + e.actor;
        detail = e.reason || "";
        break;
      case "refusal":
        head += e.rule + " at bar " + e.seq;
        detail = e.reason;
        break;
      case "snapshot":
        detail = e.message;
        break;
      case "stop":
        head += "stopped (" + e.reason + ")";
        break;
    }
    item($("log"), ts, kind, head, detail, kind === "reload" ? e.outcome : kind, e.strategy);
  }

  function item(list, ts, kind, head, detail, cls, strategy) {
    const li = el("li", cls);
    if (strategy) li.dataset.strategy = strategy;
    li.appendChild(el("span", "ts", ts));
    li.appendChild(el("span", "kind", kind));
    li.appendChild(document.createTextNode(head));
    if (detail) li.appendChild(el("span", "detail", detail));
    list.insertBefore(li, list.firstChild);
    while (list.children.length > MAX_ITEMS) list.removeChild(list.lastChild);
  }

  function notice(text, cls) {
    item($("log"), new Date().toISOString().slice(11, 23), "notice", text, "", cls || "notice");
  }

  function flash(id) {
    const row = rows.get(id);
    if (!row) return;
    row.classList.remove("flash");
    void row.offsetWidth; // restart the animation
    row.classList.add("flash");
  }

  // ---- control -------------------------------------------------------------
  async function control(id, action) {
    const headers = {};
    if (token()) headers["Authorization"] = "Bearer " + token();
    const query = action === "rollback" ? "?steps=1" : "";
    try {
      const r = await fetch("/strategies/" + encodeURIComponent(id) + "/" + action + query, { method: "POST", headers });
      const body = await r.json().catch(() => ({}));
      if (r.ok) {
        notice(action + " " + id + ": " + body.state + " v" + body.version + " (by " + body.actor + ")");
        if (body.status) {
          strategies.set(id, body.status);
          renderTable();
        }
      } else {
        notice(action + " " + id + " refused (" + r.status + "): " + (body.error || r.statusText) + (body.hint ? " — " + body.hint : ""), "rejected");
      }
    } catch (err) {
      notice(action + " " + id + " failed: the runtime did not answer (" + err + ")", "rejected");
    }
  }

  // ---- helpers -------------------------------------------------------------
  function showAccess() {
    const who = access.actor ? " as " + access.actor : "";
    $("access").textContent =
      access.auth === "none" ? "no token needed" : access.control ? "control" + who : access.read ? "read-only" : "token needed";
    setButtons();
  }
  function setConn(cls, text) {
    const b = $("conn");
    b.className = "badge " + cls;
    b.textContent = text;
  }
  function banner(text, cls) {
    const b = $("banner");
    b.hidden = !text;
    b.className = cls === "info" ? "info" : "";
    b.textContent = text || "";
  }
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function set(cell, value, cls) {
    const text = value === undefined || value === null ? "" : String(value);
    if (cell.textContent !== text) cell.textContent = text;
    if (cls !== undefined && cell.className !== cls) cell.className = cls;
  }
  function qty(v) {
    return typeof v === "number" ? String(Math.round(v * 1e6) / 1e6) : "";
  }
  function money(v) {
    return typeof v === "number" ? v.toFixed(2) : "";
  }
  function sign(v) {
    return v > 0 ? "pos" : v < 0 ? "neg" : "";
  }
  function us(v) {
    return typeof v === "number" ? (v < 10 ? v.toFixed(2) : v.toFixed(0)) : "";
  }
  function ms(microseconds) {
    return microseconds >= 1000 ? (microseconds / 1000).toFixed(1) + " ms" : microseconds + " µs";
  }
  function fmtDuration(s) {
    s = Math.floor(s);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + "h " : "") + (h || m ? m + "m " : "") + (s % 60) + "s";
  }

  connect();
})();
