/// The dashboard: one self-contained page (inline CSS and JavaScript, no external assets, works offline)
/// that polls `api/state` and draws sessions, providers, followers, recent copies, equity curves and the
/// latency histogram.
///
/// Data is inserted with `textContent` only, never as markup, so names from the settings file or the
/// broker cannot inject script. Elements carry stable `id`s and `data-` attributes for tests and
/// operators' scripts: `#kpi-signals`, `tr[data-follower="F1"] td[data-field="equity"]`, `body[data-loaded]`.
enum DashboardPage {
    /// Inline script and style only; data comes from this origin.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
        + "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// The page, polling every `refreshMs` unless the snapshot or `?refresh=` says otherwise.
    static func html(refreshMs: Int) -> String {
        template.replacingOccurrences(of: "__REFRESH_MS__", with: String(refreshMs))
    }

    private static let template = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>CopyBridge</title>
        <style>
        :root {
          --bg: #f3f5f8; --panel: #ffffff; --ink: #17202b; --muted: #687385; --line: #e2e7ee; --soft: #f8fafc;
          --accent: #2563eb; --good: #15803d; --bad: #c0262d; --warn: #b45309; --head: #0f172a;
        }
        * { box-sizing: border-box; }
        body { margin: 0; background: var(--bg); color: var(--ink);
          font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
        header { background: var(--head); color: #e5e7eb; padding: 10px 22px; display: flex; align-items: center;
          gap: 14px; flex-wrap: wrap; }
        header h1 { margin: 0; font-size: 16px; font-weight: 650; color: #fff; letter-spacing: .2px; }
        header .meta { color: #94a3b8; font-size: 12px; }
        header .spacer { flex: 1; }
        .badge { display: inline-block; padding: 2px 8px; border-radius: 4px; font-size: 11px; font-weight: 600;
          text-transform: uppercase; letter-spacing: .5px; background: #1e293b; color: #cbd5e1; border: 1px solid #334155; }
        .status { display: inline-flex; align-items: center; gap: 6px; font-size: 12px; color: #cbd5e1; }
        .dot { width: 8px; height: 8px; border-radius: 50%; background: #64748b; }
        .dot.live { background: #22c55e; box-shadow: 0 0 0 3px rgba(34,197,94,.18); }
        .dot.stale { background: #f59e0b; } .dot.error { background: #ef4444; }
        main { max-width: 1680px; margin: 0 auto; padding: 16px 22px 28px; display: grid; gap: 16px; }
        .alerts { display: grid; gap: 6px; } .alerts:empty { display: none; }
        .alert { background: #fef2f2; border: 1px solid #fecaca; border-left: 4px solid var(--bad); color: #7f1d1d;
          padding: 8px 12px; border-radius: 6px; display: flex; gap: 12px; align-items: baseline; }
        .alert b { font-weight: 650; } .alert .since { margin-left: auto; color: #991b1b; font-size: 12px; }
        .kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(138px, 1fr)); gap: 10px; }
        .kpi { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 9px 12px; }
        .kpi .label { color: var(--muted); font-size: 10.5px; text-transform: uppercase; letter-spacing: .6px; }
        .kpi .value { font-size: 20px; font-weight: 650; font-variant-numeric: tabular-nums; margin-top: 2px; }
        .kpi .sub { color: var(--muted); font-size: 11px; }
        .panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
        .panel > h2 { margin: 0; padding: 9px 14px; font-size: 12.5px; font-weight: 650; border-bottom: 1px solid var(--line);
          display: flex; align-items: baseline; gap: 10px; background: var(--soft); }
        .panel > h2 .hint { color: var(--muted); font-weight: 400; font-size: 11.5px; }
        .scroll { overflow-x: auto; }
        table { width: 100%; border-collapse: collapse; }
        th, td { padding: 6px 12px; text-align: left; border-bottom: 1px solid var(--line); white-space: nowrap; }
        tr:last-child td { border-bottom: none; }
        th { font-size: 10.5px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .5px; }
        .num { text-align: right; font-variant-numeric: tabular-nums; }
        td.mono, span.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
        .pill { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 11px; font-weight: 600; }
        .pill.ok { background: #dcfce7; color: #166534; } .pill.warn { background: #fef3c7; color: #92400e; }
        .pill.bad { background: #fee2e2; color: #991b1b; } .pill.off { background: #e5e7eb; color: #374151; }
        .pill.info { background: #dbeafe; color: #1e40af; }
        .reason { color: var(--muted); font-size: 11.5px; margin-left: 6px; }
        .pos { color: var(--good); } .neg { color: var(--bad); }
        .buy { color: var(--good); font-weight: 600; } .sell { color: var(--bad); font-weight: 600; }
        .positions { display: flex; gap: 4px; flex-wrap: wrap; }
        .position { background: var(--soft); border: 1px solid var(--line); border-radius: 4px; padding: 0 6px;
          font-size: 11.5px; font-variant-numeric: tabular-nums; }
        .empty { color: var(--muted); padding: 14px; font-style: italic; }
        .cols { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; align-items: start; }
        @media (max-width: 1150px) { .cols { grid-template-columns: minmax(0, 1fr); } }
        .curves { display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr)); gap: 10px; padding: 12px; }
        .curve { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px 6px; }
        .curve .top { display: flex; align-items: baseline; gap: 8px; }
        .curve .name { font-weight: 650; } .curve .last { margin-left: auto; font-variant-numeric: tabular-nums; }
        .curve .change { font-size: 11.5px; font-variant-numeric: tabular-nums; }
        .curve svg { display: block; width: 100%; height: 74px; margin-top: 4px; }
        .histogram { padding: 10px 14px 6px; }
        .histogram svg { display: block; width: 100%; height: auto; }
        .figures { display: flex; gap: 18px; flex-wrap: wrap; color: var(--muted); font-size: 12px; padding: 8px 14px 12px; }
        .figures b { color: var(--ink); font-variant-numeric: tabular-nums; }
        footer { color: var(--muted); font-size: 11.5px; text-align: center; padding-bottom: 18px; }
        </style>
        </head>
        <body>
        <header>
          <h1>CopyBridge</h1>
          <span class="badge" id="agent-mode">—</span>
          <span class="meta" id="agent-meta">connecting…</span>
          <span class="spacer"></span>
          <span class="status"><span class="dot" id="status-dot"></span><span id="status-text">waiting for data</span></span>
        </header>
        <main>
          <div class="alerts" id="alerts"></div>
          <div class="kpis" id="kpis"></div>
          <section class="panel"><h2>Sessions <span class="hint" id="sessions-hint"></span></h2>
            <div class="scroll" id="sessions"></div></section>
          <section class="panel"><h2>Followers <span class="hint" id="followers-hint"></span></h2>
            <div class="scroll" id="followers"></div></section>
          <section class="panel"><h2>Providers <span class="hint" id="providers-hint"></span></h2>
            <div class="scroll" id="providers"></div></section>
          <section class="panel" id="breakers-panel" hidden><h2>Circuit breakers</h2>
            <div class="scroll" id="breakers"></div></section>
          <div class="cols">
            <section class="panel"><h2>Equity <span class="hint">per provider and follower</span></h2>
              <div id="curves"></div></section>
            <section class="panel"><h2>Tick-to-copy latency <span class="hint">copies per bucket since start, by upper bound</span></h2>
              <div class="histogram" id="histogram"></div><div class="figures" id="window-figures"></div></section>
          </div>
          <section class="panel"><h2>Recent copies <span class="hint" id="copies-hint"></span></h2>
            <div class="scroll" id="copies"></div></section>
        </main>
        <footer id="footer">CopyBridge dashboard</footer>
        <script>
        "use strict";
        const DEFAULT_REFRESH_MS = __REFRESH_MS__;
        const query = new URLSearchParams(location.search);
        const refreshOverride = query.has("refresh") ? Math.min(60000, Math.max(100, Number(query.get("refresh")) || DEFAULT_REFRESH_MS)) : null;
        const SVG_NS = "http://www.w3.org/2000/svg";
        let lastSuccess = null;

        function el(tag, attrs, ...children) {
          const node = document.createElement(tag);
          setAttrs(node, attrs);
          append(node, children);
          return node;
        }
        function svg(tag, attrs, ...children) {
          const node = document.createElementNS(SVG_NS, tag);
          setAttrs(node, attrs);
          append(node, children);
          return node;
        }
        function setAttrs(node, attrs) {
          for (const [key, value] of Object.entries(attrs || {})) {
            if (value === null || value === undefined || value === false) continue;
            if (key === "class") node.setAttribute("class", value);
            else if (key === "text") node.textContent = value;
            else node.setAttribute(key, value === true ? "" : String(value));
          }
        }
        function append(node, children) {
          for (const child of children.flat()) {
            if (child === null || child === undefined || child === false) continue;
            node.append(child instanceof Node ? child : document.createTextNode(String(child)));
          }
        }
        function fill(id, ...children) {
          const target = document.getElementById(id);
          target.replaceChildren();
          append(target, children);
        }
        function setText(id, text) { document.getElementById(id).textContent = text; }

        // Exact decimals arrive as strings: group and pad them as text, never round through a float.
        function dec(text, minFraction) {
          if (text === null || text === undefined) return "—";
          let s = String(text), sign = "";
          if (s.startsWith("-")) { sign = "−"; s = s.slice(1); }
          let [whole, fraction = ""] = s.split(".");
          while (fraction.length < (minFraction || 0)) fraction += "0";
          whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
          if (!/[1-9]/.test(whole + fraction)) sign = "";
          return sign + whole + (fraction ? "." + fraction : "");
        }
        const money = (text) => dec(text, 2);
        function signed(text) {
          if (text === null || text === undefined) return "";
          if (String(text).startsWith("-")) return "neg";
          return /[1-9]/.test(String(text)) ? "pos" : "";
        }
        function percent(fraction, digits) {
          if (fraction === null || fraction === undefined) return "—";
          return (Number(fraction) * 100).toFixed(digits === undefined ? 2 : digits) + " %";
        }
        function micros(us) {
          if (us === null || us === undefined) return "—";
          if (us >= 1e6) return trim((us / 1e6).toFixed(2)) + " s";
          if (us >= 1e3) return trim((us / 1e3).toFixed(us >= 1e5 ? 0 : 2)) + " ms";
          return us + " µs";
        }
        function shortMicros(us) {
          if (us >= 1e6) return trim(String(us / 1e6)) + "s";
          if (us >= 1e3) return trim(String(us / 1e3)) + "ms";
          return us + "µs";
        }
        function trim(text) { return text.includes(".") ? text.replace(/\.?0+$/, "") : text; }
        function count(n) { return n === null || n === undefined ? "—" : Number(n).toLocaleString("en-US"); }
        function clock(iso) { return iso ? iso.slice(11, 23) : "—"; }
        function since(iso) {
          if (!iso) return "";
          const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
          if (seconds < 90) return Math.round(seconds) + " s";
          if (seconds < 5400) return Math.round(seconds / 60) + " min";
          if (seconds < 172800) return (seconds / 3600).toFixed(1) + " h";
          return (seconds / 86400).toFixed(1) + " d";
        }
        function pill(state, kind) { return el("span", { class: "pill " + kind, "data-state": state, text: state }); }
        const SESSION_KIND = { "logged-on": "ok", "connecting": "warn", "down": "bad" };
        const PROVIDER_KIND = { "active": "ok", "disabled": "off", "suspended": "warn" };
        const FOLLOWER_KIND = { "active": "ok", "paused": "off", "degraded": "warn", "tripped": "bad" };
        const COPY_KIND = { "filled": "ok", "partially-filled": "info", "pending": "info", "rejected": "bad", "skipped": "off", "cancelled": "warn" };

        function table(columns, rows, empty) {
          if (!rows.length) return el("div", { class: "empty", text: empty });
          return el("table", {},
            el("thead", {}, el("tr", {}, columns.map(([label, cls]) => el("th", { class: cls, text: label })))),
            el("tbody", {}, rows));
        }
        function cell(field, content, cls) {
          return el("td", { "data-field": field, class: cls }, content);
        }
        function positions(list) {
          const open = (list || []).filter((p) => /[1-9]/.test(p.quantity));
          if (!open.length) return el("span", { class: "reason", text: "flat" });
          return el("span", { class: "positions" }, open.map((p) =>
            el("span", { class: "position", "data-symbol": p.symbol,
              title: p.averagePrice ? "avg " + dec(p.averagePrice) : "",
              text: p.symbol + " " + (p.quantity.startsWith("-") ? "" : "+") + dec(p.quantity) })));
        }
        function stateCell(state, kinds, reason) {
          return cell("state", [pill(state, kinds[state] || "off"), reason ? el("span", { class: "reason", text: reason }) : null]);
        }

        function renderHeader(s) {
          setText("agent-mode", s.agent.mode);
          setText("agent-meta", s.agent.name + " · v" + s.agent.version + " · up " + since(s.agent.startedAt));
          document.title = "CopyBridge · " + s.agent.name;
          setText("footer", "Snapshot " + s.generatedAt + " · started " + s.agent.startedAt);
        }

        function renderAlerts(alerts) {
          fill("alerts", alerts.map((a) => el("div", { class: "alert", "data-alert": a.alert },
            el("b", { text: a.alert.replace(/_/g, " ") }), el("span", { text: a.message }),
            el("span", { class: "since", text: "since " + clock(a.since) + " UTC (" + since(a.since) + ")" }))));
        }

        function renderKpis(s) {
          const t = s.metrics.totals;
          const up = s.sessions.filter((x) => x.state === "logged-on").length;
          const activeFollowers = s.followers.filter((f) => f.state === "active").length;
          const tiles = [
            ["signals", "Signals", count(t.signals), "provider fills"],
            ["copies", "Copies", count(t.copies), count(t.skips) + " skipped"],
            ["fill-rate", "Fill rate", percent(t.fillRate), count(t.fills) + " of " + count(t.fills + t.rejects + t.unfilled)],
            ["reject-rate", "Reject rate", percent(t.rejectRate), count(t.rejects) + " rejected"],
            ["p50", "Latency p50", micros(t.p50LatencyMicros), "tick to copy"],
            ["p99", "Latency p99", micros(t.p99LatencyMicros), "tick to copy"],
            ["errors", "Errors", count(t.errors), count(t.ordersSent) + " orders sent"],
            ["sessions", "Sessions up", up + " / " + s.sessions.length, "logged on"],
            ["followers", "Followers", activeFollowers + " / " + s.followers.length, "active"],
          ];
          fill("kpis", tiles.map(([id, label, value, sub]) => el("div", { class: "kpi" },
            el("div", { class: "label", text: label }),
            el("div", { class: "value", id: "kpi-" + id, text: value }),
            el("div", { class: "sub", text: sub }))));
        }

        function renderSessions(sessions) {
          setText("sessions-hint", sessions.length ? sessions.length + " configured" : "");
          fill("sessions", table(
            [["Session"], ["Identity"], ["Role"], ["Broker"], ["State"], ["Next out", "num"], ["Next in", "num"]],
            sessions.map((x) => el("tr", { "data-session": x.name },
              cell("name", el("b", { text: x.name })), cell("identity", x.identity, "mono"), cell("role", x.role),
              cell("broker", x.broker), stateCell(x.state, SESSION_KIND, x.detail),
              cell("nextSenderSeqNum", count(x.nextSenderSeqNum), "num"),
              cell("nextTargetSeqNum", count(x.nextTargetSeqNum), "num"))),
            "No sessions configured."));
        }

        function renderProviders(providers) {
          setText("providers-hint", providers.length ? providers.filter((p) => p.state === "active").length + " of " + providers.length + " active" : "");
          fill("providers", table(
            [["Provider"], ["State"], ["Positions"], ["TWR", "num"], ["Max DD", "num"], ["Win rate", "num"], ["PF", "num"], ["Trades", "num"]],
            providers.map((p) => el("tr", { "data-provider": p.id },
              cell("id", [el("b", { text: p.id }), el("div", { class: "reason", text: p.session })]),
              stateCell(p.state, PROVIDER_KIND, p.reason), cell("positions", positions(p.positions)),
              cell("twr", percent(p.statistics.timeWeightedReturn), "num " + signed(p.statistics.timeWeightedReturn)),
              cell("maxDrawdown", percent(p.statistics.maxDrawdown), "num"),
              cell("winRate", percent(p.statistics.winRate, 1), "num"),
              cell("profitFactor", p.statistics.profitFactor ? dec(Number(p.statistics.profitFactor).toFixed(2)) : "—", "num"),
              cell("trades", count(p.statistics.trades), "num"))),
            "No providers configured."));
        }

        function renderFollowers(followers) {
          setText("followers-hint", followers.length ? followers.filter((f) => f.state === "active").length + " of " + followers.length + " active" : "");
          fill("followers", table(
            [["Follower"], ["State"], ["Positions"], ["Equity", "num"], ["Realised", "num"], ["Unrealised", "num"], ["Fees accrued", "num"], ["Fees charged", "num"]],
            followers.map((f) => el("tr", { "data-follower": f.id },
              cell("id", [el("b", { text: f.id }), el("div", { class: "reason", text: f.providers.join(", ") + " → " + f.session })]),
              stateCell(f.state, FOLLOWER_KIND, f.reason), cell("positions", positions(f.positions)),
              cell("equity", money(f.equity) + " " + f.currency, "num"),
              cell("realizedPnL", money(f.realizedPnL), "num " + signed(f.realizedPnL)),
              cell("unrealizedPnL", money(f.unrealizedPnL), "num " + signed(f.unrealizedPnL)),
              cell("feesAccrued", money(f.feesAccrued), "num"),
              cell("feesCharged", money(f.feesCharged), "num"))),
            "No followers configured."));
        }

        function renderBreakers(breakers) {
          document.getElementById("breakers-panel").hidden = !breakers.length;
          fill("breakers", table([["Breaker"], ["State"], ["Since"]],
            breakers.map((b) => el("tr", { "data-breaker": b.name },
              cell("name", el("b", { text: b.name })),
              stateCell(b.tripped ? "tripped" : "armed", { tripped: "bad", armed: "ok" }, b.reason),
              cell("since", b.since ? clock(b.since) + " UTC" : "—"))), ""));
        }

        function renderCopies(copies) {
          const shown = copies.slice(0, 100);
          setText("copies-hint", copies.length ? "latest " + shown.length : "");
          fill("copies", table(
            [["Time (UTC)"], ["Provider fill"], ["Follower"], ["Symbol"], ["Side"], ["Qty", "num"], ["Avg px", "num"], ["Provider px", "num"], ["Slippage", "num"], ["Latency", "num"], ["Status"]],
            shown.map((c) => el("tr", { "data-exec-id": c.providerExecID, "data-follower": c.follower },
              cell("time", clock(c.time), "mono"),
              cell("providerExecID", [el("span", { class: "mono", text: c.providerExecID }), el("span", { class: "reason", text: c.provider })]),
              cell("follower", c.follower), cell("symbol", el("b", { text: c.symbol })),
              cell("side", c.side, c.side), cell("quantity", dec(c.quantity), "num"),
              cell("averagePrice", dec(c.averagePrice), "num"), cell("providerPrice", dec(c.providerPrice), "num"),
              cell("slippageBps", c.slippageBps === null || c.slippageBps === undefined ? "—" : dec(c.slippageBps) + " bp",
                "num " + (c.slippageBps ? (String(c.slippageBps).startsWith("-") ? "pos" : (/[1-9]/.test(c.slippageBps) ? "neg" : "")) : "")),
              cell("tickToCopyMicros", micros(c.tickToCopyMicros), "num"),
              cell("status", [pill(c.status, COPY_KIND[c.status] || "off"), c.reason ? el("span", { class: "reason", text: c.reason }) : null]))),
            "No copies yet."));
        }

        function renderCurves(curves) {
          if (!curves.length) { fill("curves", el("div", { class: "empty", text: "No equity history yet." })); return; }
          const sorted = curves.slice().sort((a, b) => (a.owner === b.owner ? a.id.localeCompare(b.id) : a.owner === "provider" ? -1 : 1));
          fill("curves", el("div", { class: "curves" }, sorted.map(curve)));
        }
        function curve(c) {
          const W = 300, H = 74, P = 3;
          const pts = c.points.map((p) => [Date.parse(p.time), Number(p.equity)]).filter(([t, v]) => isFinite(t) && isFinite(v));
          const first = c.points.length ? c.points[0].equity : null;
          const last = c.points.length ? c.points[c.points.length - 1].equity : null;
          const change = first !== null && Number(first) !== 0 ? (Number(last) - Number(first)) / Math.abs(Number(first)) : null;
          const chart = svg("svg", { viewBox: "0 0 " + W + " " + H, preserveAspectRatio: "none", role: "img", "aria-label": "equity of " + c.id });
          if (pts.length >= 2) {
            const t0 = pts[0][0], t1 = pts[pts.length - 1][0];
            let lo = Math.min(...pts.map((p) => p[1])), hi = Math.max(...pts.map((p) => p[1]));
            if (hi === lo) { hi += 1; lo -= 1; }
            const x = (t) => P + (t1 === t0 ? 0 : (t - t0) / (t1 - t0)) * (W - 2 * P);
            const y = (v) => H - P - (v - lo) / (hi - lo) * (H - 2 * P);
            const line = pts.map(([t, v]) => x(t).toFixed(1) + "," + y(v).toFixed(1)).join(" ");
            const rising = pts[pts.length - 1][1] >= pts[0][1];
            const color = rising ? "#15803d" : "#c0262d";
            chart.append(
              svg("polygon", { points: x(t0).toFixed(1) + "," + (H - P) + " " + line + " " + x(t1).toFixed(1) + "," + (H - P), fill: color, "fill-opacity": "0.08" }),
              svg("polyline", { points: line, fill: "none", stroke: color, "stroke-width": "1.6", "vector-effect": "non-scaling-stroke", "stroke-linejoin": "round" }));
          } else {
            chart.append(svg("text", { x: W / 2, y: H / 2 + 4, "text-anchor": "middle", fill: "#94a3b8", "font-size": "11", text: pts.length ? "one point" : "no points yet" }));
          }
          return el("div", { class: "curve", "data-curve": c.owner + ":" + c.id },
            el("div", { class: "top" },
              el("span", { class: "name", text: c.id }),
              el("span", { class: "pill " + (c.owner === "provider" ? "info" : "off"), text: c.owner }),
              el("span", { class: "last", "data-field": "last", text: money(last) })),
            el("div", { class: "change " + (change === null ? "" : change < 0 ? "neg" : "pos"),
              text: change === null ? "\u00a0" : (change >= 0 ? "+" : "") + (change * 100).toFixed(2) + " % over " + c.points.length + " points" }),
            chart);
        }

        function renderHistogram(h, totals) {
          const W = 600, H = 210, top = 18, bottom = 30, left = 4;
          const n = h.counts.length, slot = (W - left * 2) / n, max = Math.max(1, ...h.counts);
          const total = h.counts.reduce((a, b) => a + b, 0);
          const chart = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "tick-to-copy latency histogram" });
          chart.append(svg("line", { x1: left, x2: W - left, y1: H - bottom + 0.5, y2: H - bottom + 0.5, stroke: "#cbd5e1" }));
          h.counts.forEach((value, i) => {
            const barH = value ? Math.max(2, (value / max) * (H - top - bottom)) : 0;
            const x = left + i * slot + 2, w = slot - 4;
            const label = i < h.upperBoundsMicros.length ? shortMicros(h.upperBoundsMicros[i]) : ">" + shortMicros(h.upperBoundsMicros[h.upperBoundsMicros.length - 1]);
            const slow = i >= h.upperBoundsMicros.length || h.upperBoundsMicros[i] > 500000;
            const bar = svg("rect", { x: x.toFixed(1), y: (H - bottom - barH).toFixed(1), width: w.toFixed(1), height: barH.toFixed(1), rx: 2,
              fill: slow ? "#ef4444" : "#3b82f6", "data-bucket": i, "data-count": value });
            bar.append(svg("title", { text: (i < h.upperBoundsMicros.length ? "≤ " : "") + label + ": " + count(value) + " copies" }));
            chart.append(bar);
            if (value) chart.append(svg("text", { x: (x + w / 2).toFixed(1), y: (H - bottom - barH - 4).toFixed(1), "text-anchor": "middle", "font-size": "10", "font-weight": "600", fill: "#334155", text: count(value) }));
            chart.append(svg("text", { x: (x + w / 2).toFixed(1), y: H - bottom + 14, "text-anchor": "middle", "font-size": "9", fill: "#64748b", text: label }));
          });
          if (!total) chart.append(svg("text", { x: W / 2, y: (H - bottom) / 2 + 8, "text-anchor": "middle", "font-size": "13", fill: "#94a3b8", text: "No copies yet" }));
          fill("histogram", chart);
        }

        function renderWindow(m) {
          const w = m.window;
          fill("window-figures",
            el("span", {}, "Window p99 ", el("b", { id: "window-p99", text: micros(w.latencyP99Micros) }), " (" + count(w.latencySamples) + " copies)"),
            el("span", {}, "Fill rate ", el("b", { id: "window-fill", text: percent(w.fillRate) }), " (" + count(w.orderOutcomes) + " orders)"),
            el("span", {}, "Error rate ", el("b", { id: "window-error", text: percent(w.errorRate, 3) }), " (" + count(w.ordersSent) + " sent)"));
        }

        function render(s) {
          renderHeader(s);
          renderAlerts(s.metrics.alerts);
          renderKpis(s);
          renderSessions(s.sessions);
          renderFollowers(s.followers);
          renderProviders(s.providers);
          renderBreakers(s.breakers);
          renderCurves(s.equityCurves);
          renderHistogram(s.metrics.latencyHistogram, s.metrics.totals);
          renderWindow(s.metrics);
          renderCopies(s.recentCopies);
          document.body.dataset.loaded = "true";
          document.body.dataset.generatedAt = s.generatedAt;
        }

        function status(kind, text) {
          document.getElementById("status-dot").className = "dot " + kind;
          setText("status-text", text);
        }

        async function refresh() {
          let interval = refreshOverride || DEFAULT_REFRESH_MS;
          try {
            const response = await fetch("api/state", { cache: "no-store", credentials: "same-origin" });
            if (response.status === 401) { location.reload(); return; }
            if (!response.ok) throw new Error("HTTP " + response.status);
            const snapshot = await response.json();
            interval = refreshOverride || snapshot.agent.dashboardRefreshMs || interval;
            render(snapshot);
            lastSuccess = Date.now();
            status("live", "live · " + clock(snapshot.generatedAt) + " UTC");
          } catch (error) {
            const stale = lastSuccess ? " · last data " + Math.round((Date.now() - lastSuccess) / 1000) + " s ago" : "";
            status(lastSuccess ? "stale" : "error", "no data: " + error.message + stale);
          }
          setTimeout(refresh, interval);
        }
        refresh();
        </script>
        </body>
        </html>
        """#

    /// Shown instead of the dashboard when the server needs the token and the browser has none: it stores
    /// the token in a same-site cookie (sent only to this server) and reloads.
    static let signInHTML = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>CopyBridge · sign in</title>
        <style>
        body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: #0f172a;
          font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #17202b; }
        form { background: #fff; padding: 24px 26px; border-radius: 10px; width: 340px; display: grid; gap: 12px; }
        h1 { margin: 0; font-size: 17px; } p { margin: 0; color: #687385; font-size: 12.5px; }
        input { font: inherit; padding: 8px 10px; border: 1px solid #cbd5e1; border-radius: 6px; }
        button { font: inherit; font-weight: 600; padding: 8px; border: 0; border-radius: 6px; background: #2563eb; color: #fff; cursor: pointer; }
        </style>
        </head>
        <body>
        <form id="sign-in">
          <h1>CopyBridge</h1>
          <p>This dashboard needs the admin token (AdminToken in the [ADMIN] settings).</p>
          <input id="token" type="password" autocomplete="current-password" placeholder="Admin token" required autofocus>
          <button type="submit">Open dashboard</button>
        </form>
        <script>
        "use strict";
        document.getElementById("sign-in").addEventListener("submit", (event) => {
          event.preventDefault();
          const secure = location.protocol === "https:" ? "; Secure" : "";
          document.cookie = "copybridge_token=" + encodeURIComponent(document.getElementById("token").value) + "; Path=/; SameSite=Strict" + secure;
          location.reload();
        });
        </script>
        </body>
        </html>
        """#
}
