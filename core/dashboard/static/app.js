/* token-roi dashboard: renders what the JSON API (core/dashboard/api.py) returns. It computes
   no figure of its own: every number on the page comes from the library, here only formatted.
   Routes are hashes (#/page?param=...), so a reload or a shared link keeps the view. */
"use strict";

const PAGES = {};
const PERIOD_LABELS = [["today", "Today"], ["7d", "7 days"], ["30d", "30 days"], ["month", "This month"],
                       ["all", "All"], ["custom", "Custom"]];
const COLOURS = ["#3757d6", "#e8793a", "#1a8f4c", "#9b4dca", "#d6a537", "#2aa7b8", "#c53030", "#6b7a99",
                 "#7fb800", "#e052a0", "#5a3dd6", "#8a6d3b"];
let charts = [];
let renderSeq = 0;
// Chart.js loads after this script (index.html): pages await this before drawing.
const chartReady = new Promise(resolve => {
  if (typeof Chart !== "undefined") return resolve();
  const tag = document.getElementById("chartjs");
  tag.addEventListener("load", resolve);
  tag.addEventListener("error", resolve);     // newChart() then says the library did not load
});

// -- small helpers ----------------------------------------------------------------------------

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

/* Numbers are grouped by hand, en-US style: a page's first Intl.NumberFormat (or toLocaleString)
   loads ICU's data, ~35 ms on the first render's path. Rounded as Intl rounds: the shortest
   decimal that reads back as the number (String(x)), half away from zero (0.015 -> 0.02, where
   toFixed gives 0.01); the e2e tests compare the two on thousands of values. */
function grouped(x, digits) {
  let s = String(Math.abs(x));
  if (s.includes("e")) s = Math.abs(x).toFixed(20).replace(/0+$/, "");    // < 1e-6 (or >= 1e21: not money)
  let [whole, frac = ""] = s.split(".");
  if (frac.length > digits) {
    const up = frac[digits] >= "5";
    frac = frac.slice(0, digits);
    if (up) {
      const n = String(BigInt(whole + frac) + 1n).padStart(whole.length + digits, "0");
      [whole, frac] = [n.slice(0, n.length - digits) || "0", n.slice(n.length - digits)];
    }
  }
  frac = frac.padEnd(digits, "0");
  return whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (digits ? "." + frac : "");
}
const intFmt = {format: n => (n < 0 ? "-" : "") + grouped(n, 0)};
function money(x) {
  if (x === null || x === undefined) return "–";
  const s = grouped(x, 2);
  return (x < 0 && Math.round(x * 100) !== 0 ? "-$" : "$") + s;
}
/* Cost of a usage object: '*' when some calls have no price (a lower bound), 'n/a*' when none
   has one: an unknown price is never shown as $0. */
function cost(u) {
  if (!u) return "–";
  if (u.fullyUnpriced) return "n/a*";
  return money(u.cost) + (u.unpricedCalls ? "*" : "");
}
function compact(n) {
  if (n === null || n === undefined) return "–";
  const a = Math.abs(n);
  for (const [d, u] of [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "k"]]) {
    if (a >= d) return (n / d).toFixed(n / d >= 100 ? 0 : 1) + u;
  }
  return String(n);
}
function tokens(n) { return h("span", {title: n === null || n === undefined ? "" : intFmt.format(n) + " tokens"}, compact(n)); }
function pct(x, digits = 1) { return x === null || x === undefined ? "–" : x.toFixed(digits) + "%"; }
function rangeMoney(r) {
  return r ? `${money(r.mid)} (${money(r.low)}–${money(r.high)})` : "–";
}
function times(x) { return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2); }
function rangeRoi(r) { return r ? `${times(r.mid)}× (${times(r.low)}–${times(r.high)})` : "–"; }
function when(iso) { return iso ? iso.replace("T", " ").slice(0, 16) : "–"; }
function projectName(p) { if (!p) return "(no project)"; const parts = p.replace(/[\\/]+$/, "").split(/[\\/]/); return parts[parts.length - 1] || p; }

async function api(path, params, options) {
  const qs = params ? "?" + new URLSearchParams(Object.entries(params).filter(([, v]) => v !== null && v !== undefined && v !== "")) : "";
  const url = "/api/" + path + qs;
  // index.html's head asked for the Dashboard's overview already: the first request takes that
  // answer if it is for the same URL, and no later one ever does (it would be stale).
  const early = window.earlyFetch;
  window.earlyFetch = null;
  const res = await (early && !options && early.url === url ? early.response : fetch(url, options));
  let body;
  try { body = await res.json(); } catch (e) { body = {error: `HTTP ${res.status}`}; }
  if (!res.ok) { const err = new Error(body.error || `HTTP ${res.status}`); err.status = res.status; throw err; }
  return body;
}
function post(path, body) {
  return api(path, null, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
}

function route() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [page, qs] = hash.split("?");
  return {page: page || "dashboard", params: Object.fromEntries(new URLSearchParams(qs || ""))};
}
function go(page, params) {
  const qs = new URLSearchParams(Object.entries(params || {}).filter(([, v]) => v !== null && v !== undefined && v !== ""));
  const next = "#/" + page + (String(qs) ? "?" + qs : "");
  if (location.hash === next) render(); else location.hash = next;
}
function withParams(extra) { const r = route(); go(r.page, {...r.params, ...extra}); }

function card(title, ...kids) { return h("div", {class: "card"}, title ? h("h2", {}, title) : null, ...kids); }
function empty(text) { return h("div", {class: "empty", "data-empty": "1"}, text); }
function errorBox(e) { return h("div", {class: "error", role: "alert"}, e.message || String(e)); }
function kpi(id, label, value, sub) {
  return h("div", {class: "card kpi", id: "kpi-" + id, "data-kpi": id},
    h("div", {class: "label"}, label), h("div", {class: "value"}, value), h("div", {class: "sub"}, sub || ""));
}
function table(columns, rows, opts = {}) {
  const head = h("tr", {}, columns.map(c => {
    const th = h("th", {class: (c.num ? "num " : "") + (c.sort ? "sortable" + (opts.sort === c.sort ? " on" : "") : "")}, c.title);
    if (c.sort) {
      th.append(opts.sort === c.sort ? (opts.dir === "asc" ? " ▲" : " ▼") : "");
      th.addEventListener("click", () => opts.onSort(c.sort));
    }
    return th;
  }));
  const body = rows.map(r => {
    const tr = h("tr", {class: opts.onRow ? "link" : ""}, columns.map(c => {
      const v = c.cell(r);
      return h("td", {class: (c.num ? "num " : "") + (c.cls || "")}, v);
    }));
    if (opts.onRow) tr.addEventListener("click", () => opts.onRow(r));
    return tr;
  });
  return h("div", {class: "table-wrap"}, h("table", {"data-table": opts.name || ""}, h("thead", {}, head), h("tbody", {}, body)));
}

function newChart(canvas, config) {
  if (typeof Chart === "undefined") { canvas.replaceWith(errorBox(new Error("the chart library did not load"))); return null; }
  config.options = config.options || {};
  config.options.animation = false;       // figures appear at once (and screenshots are stable)
  config.options.maintainAspectRatio = false;
  const c = new Chart(canvas, config);
  charts.push(c);
  return c;
}
const moneyTick = v => "$" + (v < 0 ? "-" : "") + grouped(Number(v), 2).replace(/\.?0+$/, "");
// -- the period filter ------------------------------------------------------------------------

function periodBar(params, opts = {}) {
  const bar = document.getElementById("filters");
  bar.replaceChildren();
  const period = params.period || "30d";
  const seg = h("div", {class: "seg", id: "period"}, PERIOD_LABELS.map(([p, label]) =>
    h("button", {class: p === period ? "on" : "", "data-period": p,
                 onclick: () => withParams({period: p, offset: ""})}, label)));
  bar.append(h("label", {}, "Period"), seg);
  if (period === "custom") {
    const since = h("input", {type: "date", id: "since", value: params.since || ""});
    const until = h("input", {type: "date", id: "until", value: params.until || ""});
    bar.append(since, h("span", {class: "muted"}, "to"), until,
      h("button", {class: "btn", id: "apply-range", onclick: () => withParams({since: since.value, until: until.value})}, "Apply"));
  }
  if (opts.stack) {
    const stack = params.stack || "agent";
    bar.append(h("label", {}, "Stack by"), h("div", {class: "seg", id: "stack"}, ["agent", "model"].map(s =>
      h("button", {class: s === stack ? "on" : "", "data-stack": s, onclick: () => withParams({stack: s})}, s))));
  }
  if (opts.extra) bar.append(...opts.extra);
}
function periodParams(params) {
  return {period: params.period || "30d", since: params.since, until: params.until, agent: params.agent, project: params.project};
}
function periodText(d) {
  if (!d) return "";
  if (d.since && d.until) return d.since === d.until ? d.since : `${d.since} – ${d.until}`;
  if (d.since) return `from ${d.since}`;
  if (d.until) return `until ${d.until}`;
  return "all time";
}

// -- Dashboard --------------------------------------------------------------------------------

PAGES.dashboard = async function (main, params, seq) {
  periodBar(params, {stack: true});
  const p = periodParams(params);
  // The KPIs and chart first; the value figures and the plans (slower) once they are drawn.
  const d = await api("overview", {...p, stack: params.stack || "agent"});
  if (seq !== renderSeq) return;
  performance.mark("overview-data");
  const t = d.totals;
  const unpricedNote = t.unpricedCalls ? `* ${intFmt.format(t.unpricedCalls)} calls without a price` : "at menu prices";
  const valueSlot = {value: kpi("value", "Estimated value", h("span", {class: "na"}, "…"), "loading"),
                     roi: kpi("roi", "ROI", h("span", {class: "na"}, "…"), "loading"),
                     nva: kpi("nva", "NVA %", h("span", {class: "na"}, "…"), "loading")};
  main.append(h("h1", {}, "Dashboard ", h("span", {class: "muted small", id: "period-text"}, periodText(d))));
  main.append(h("div", {class: "grid kpis"},
    kpi("tokens", "Tokens", tokens(t.totalTokens), `${intFmt.format(t.calls)} calls`),
    kpi("spend", "Spend", cost(t), unpricedNote),
    valueSlot.value, valueSlot.roi, valueSlot.nva));
  const chartCard = card("Daily cost by " + d.chart.stack);
  const subsCard = card("Subscriptions", h("div", {id: "subs"}, h("span", {class: "muted"}, "loading…")));
  main.append(h("div", {class: "grid two"}, chartCard, subsCard));
  const recent = card("Recent sessions");
  if (!d.recentSessions.length) recent.append(empty("No sessions in this period."));
  else recent.append(sessionTable(d.recentSessions, {name: "recent"}));
  main.append(h("div", {style: null}, h("div", {class: "grid"}, recent)));
  if (!t.calls) chartCard.append(empty("No usage in this period."));
  else {
    // The cards are on the page already; the chart waits for the library if it is still loading.
    await chartReady;
    if (seq !== renderSeq) return;
    performance.mark("chart-library");
    const canvas = h("canvas", {id: "cost-chart", "aria-label": "daily cost chart"});
    chartCard.append(h("div", {class: "chart-box"}, canvas));
    const series = d.chart.series;
    newChart(canvas, {
      type: "bar",
      data: {labels: d.chart.labels, datasets: series.map((s, i) => ({label: s.name, data: s.cost,
        backgroundColor: COLOURS[i % COLOURS.length], stack: "cost"}))},
      options: {
        interaction: {mode: "index", intersect: false},
        scales: {x: {stacked: true, title: {display: true, text: "day"}},
                 y: {stacked: true, beginAtZero: true, title: {display: true, text: "cost (USD)"}, ticks: {callback: moneyTick}}},
        plugins: {tooltip: {callbacks: {
          label: ctx => {
            const s = series[ctx.datasetIndex];
            const extra = s.unpricedCalls[ctx.dataIndex] ? ` + ${s.unpricedCalls[ctx.dataIndex]} unpriced calls` : "";
            return `${s.name}: ${money(ctx.parsed.y)} (${compact(s.tokens[ctx.dataIndex])} tokens)${extra}`;
          },
          footer: items => "total " + money(items.reduce((a, it) => a + it.parsed.y, 0)),
        }}},
      },
    });
  }
  // First render: the KPI cards and the chart hold the period's figures (Chart.js has drawn
  // the canvas: no animation). "first-render-painted": the frame after, once the browser painted.
  document.body.dataset.first = "dashboard";
  performance.mark("first-render");
  // The value figures and the plans are asked for once that frame is painted: the server's
  // work on them (a second or more) no longer takes the CPU the browser paints with.
  await new Promise(resolve => requestAnimationFrame(() => setTimeout(resolve)));
  performance.mark("first-render-painted");
  if (seq !== renderSeq) return;

  const [v, s] = await Promise.allSettled([api("value", p), api("subscriptions")]);
  if (seq !== renderSeq) return;
  if (v.status === "fulfilled" && v.value.available) {
    const x = v.value;
    valueSlot.value.replaceWith(kpi("value", "Estimated value", money(x.value.mid),
      `range ${money(x.value.low)} – ${money(x.value.high)} · ${intFmt.format(x.sessions)} sessions`));
    valueSlot.roi.replaceWith(kpi("roi", "ROI", x.roi ? times(x.roi.mid) + "×" : h("span", {class: "na"}, "–"),
      x.roi ? `range ${times(x.roi.low)}× – ${times(x.roi.high)}×` : "no priced cost"));
    valueSlot.nva.replaceWith(kpi("nva", "NVA %", x.nvaPercent === null ? h("span", {class: "na"}, "–") : pct(x.nvaPercent),
      "share of cost in non-value-adding sessions"));
  } else {
    const why = v.status === "rejected" ? v.reason.message : (v.value.reason || "not available");
    for (const [k, label] of [["value", "Estimated value"], ["roi", "ROI"], ["nva", "NVA %"]]) {
      valueSlot[k].replaceWith(kpi(k, label, h("span", {class: "na"}, "not available"), why));
    }
  }
  const subsBox = document.getElementById("subs");
  if (s.status === "rejected") subsBox.replaceChildren(errorBox(s.reason));
  else subsBox.replaceChildren(subscriptionPanel(s.value));
};

function subscriptionPanel(s) {
  if (!s.configured) return h("div", {class: "muted", "data-empty": "1"},
    "No subscriptions configured. Add flat-fee plans under ", h("code", {}, "subscriptions:"),
    " in the settings file to see their break-even here.");
  const out = h("div", {},
    h("div", {class: "muted small"}, `${s.month}: fees ${money(s.fixedCost)} · usage the plans covered worth ${money(s.coveredValue)} at menu prices`));
  if (!s.subscriptions.length) out.append(h("div", {class: "muted"}, "No subscription is active this month."));
  for (const b of s.subscriptions) {
    const p = b.breakEvenPercent || 0;
    const bar = h("span", {class: p >= 100 ? "" : "short"});
    bar.style.width = Math.min(p, 100) + "%";
    out.append(h("div", {class: "plan", "data-plan": b.plan},
      h("div", {}, h("strong", {}, b.plan), " ", h("span", {class: "muted"}, `${b.agent} · ${money(b.monthlyFee)}/month`)),
      h("div", {class: "bar", title: `${pct(b.breakEvenPercent, 0)} of the fee`}, bar),
      h("div", {class: "small"}, `${money(b.coveredValue)} of ${money(b.monthlyFee)} (${pct(b.breakEvenPercent, 0)}) · `,
        b.breakEvenDay ? `broke even ${b.breakEvenDay}` : b.projectedBreakEvenDay ? `break-even ~${b.projectedBreakEvenDay}` : "no break-even this month",
        " · ", h("strong", {}, b.hint)),
      h("div", {class: "muted small"}, b.reason)));
  }
  return out;
}

function sessionTable(rows, opts = {}) {
  const cols = [
    {title: "Last activity", cell: r => when(r.last), sort: "last"},
    {title: "Agent", cell: r => r.agent, sort: "agent"},
    {title: "Project", cell: r => h("span", {title: r.project}, projectName(r.project)), sort: "project", cls: "ellipsis"},
    {title: "Session", cell: r => h("code", {title: r.sessionId}, r.sessionId.slice(0, 12))},
    {title: "Models", cell: r => r.models.join(", "), cls: "ellipsis"},
    {title: "Calls", cell: r => intFmt.format(r.calls), num: true, sort: "calls"},
    {title: "Tokens", cell: r => tokens(r.totalTokens), num: true, sort: "tokens"},
    {title: "Cost", cell: r => cost(r), num: true, sort: "cost"},
  ];
  return table(opts.sortable ? cols : cols.map(c => ({...c, sort: null})), rows, {
    ...opts, onRow: r => go("session", {agent: r.agent, id: r.sessionId})});
}

// -- Sessions ---------------------------------------------------------------------------------

PAGES.sessions = async function (main, params, seq) {
  const search = h("input", {type: "search", id: "session-search", placeholder: "session id or project", value: params.q || ""});
  search.addEventListener("change", () => withParams({q: search.value, offset: ""}));
  const agentSel = h("select", {id: "agent-filter", onchange: e => withParams({agent: e.target.value, offset: ""})},
    h("option", {value: ""}, "all agents"));
  periodBar(params, {extra: [h("label", {}, "Agent"), agentSel, h("label", {}, "Find"), search]});
  const sort = params.sort || "last", dir = params.dir || "desc";
  const [d, m] = await Promise.all([
    api("sessions", {...periodParams(params), sort, dir, q: params.q, offset: params.offset, limit: 50}),
    api("meta")]);
  if (seq !== renderSeq) return;
  for (const a of m.agentsInLedger) agentSel.append(h("option", {value: a, selected: a === params.agent}, a));
  main.append(h("h1", {}, "Sessions ", h("span", {class: "muted small"}, periodText(d))));
  main.append(h("p", {class: "muted", id: "sessions-summary"},
    `${intFmt.format(d.count)} sessions · ${compact(d.totals.totalTokens)} tokens · ${cost(d.totals)}`));
  if (!d.count) { main.append(card(null, empty("No sessions match."))); return; }
  const onSort = key => withParams({sort: key, dir: key === sort && dir === "desc" ? "asc" : "desc", offset: ""});
  main.append(card(null, sessionTable(d.sessions, {name: "sessions", sortable: true, sort, dir, onSort}),
    h("div", {class: "pager"},
      h("button", {class: "btn", disabled: d.offset <= 0, onclick: () => withParams({offset: Math.max(d.offset - d.limit, 0)})}, "‹ Newer"),
      h("span", {class: "muted"}, `${d.offset + 1}–${Math.min(d.offset + d.limit, d.count)} of ${intFmt.format(d.count)}`),
      h("button", {class: "btn", disabled: d.offset + d.limit >= d.count, onclick: () => withParams({offset: d.offset + d.limit})}, "Older ›"))));
};

PAGES.session = async function (main, params, seq) {
  document.getElementById("filters").replaceChildren();
  const d = await api("session", {agent: params.agent, id: params.id});
  if (seq !== renderSeq) return;
  main.append(h("p", {}, h("a", {href: "#/sessions"}, "‹ Sessions")));
  main.append(h("h1", {}, "Session ", h("code", {}, d.sessionId)));
  main.append(h("div", {class: "grid kpis"},
    kpi("tokens", "Tokens", tokens(d.totalTokens), `${intFmt.format(d.calls)} calls`),
    kpi("spend", "Cost", cost(d), d.unpricedCalls ? `* ${d.unpricedCalls} calls without a price` : "at menu prices"),
    kpi("cache", "Cache hit rate", d.cacheHitRate === null ? "–" : pct(d.cacheHitRate * 100), "prompt tokens read from cache"),
    kpi("category", "Category", d.value ? h("span", {class: "badge " + d.value.category}, d.value.category) : h("span", {class: "na"}, "not available"),
      d.value ? `by ${d.value.category_by}` : (d.valueError || "")),
    kpi("value", "Estimated value", d.value && d.value.value ? money(d.value.value.mid) : h("span", {class: "na"}, "not available"),
      d.value && d.value.value ? `range ${money(d.value.value.low)} – ${money(d.value.value.high)}` : "")));
  const kinds = [["Uncached input", d.inputTokens], ["Output", d.outputTokens], ["Reasoning", d.reasoningTokens],
                 ["Cache read", d.cacheReadTokens], ["Cache write 5m", d.cacheWrite5mTokens], ["Cache write 1h", d.cacheWrite1hTokens]];
  const about = h("dl", {class: "kv"},
    h("dt", {}, "Agent"), h("dd", {}, d.agent),
    h("dt", {}, "Project"), h("dd", {}, d.project || "(none)"),
    h("dt", {}, "First call"), h("dd", {}, when(d.first)),
    h("dt", {}, "Last call"), h("dd", {}, when(d.last)));
  if (d.value) {
    const sg = d.value.signals || {};
    about.append(
      h("dt", {}, "ROI"), h("dd", {}, rangeRoi(d.value.roi)),
      h("dt", {}, "Value range"), h("dd", {}, rangeMoney(d.value.value)),
      h("dt", {}, "Valued by"), h("dd", {}, d.value.via),
      h("dt", {}, "Loop attempts"), h("dd", {id: "loop-attempts"}, `max ${sg.loop_attempts_max || 0}, total ${sg.loop_attempts_total || 0}`),
      h("dt", {}, "Tool calls"), h("dd", {}, `${Object.values(sg.tool_calls || {}).reduce((a, b) => a + b, 0)} (${sg.tool_failures || 0} failed)`),
      h("dt", {}, "What happened"), h("dd", {class: "wrap"}, d.value.whatHappened || ""),
      h("dt", {}, "Why this category"), h("dd", {class: "wrap"}, (d.value.reasons || []).join("; ")));
  }
  main.append(h("div", {class: "grid two"},
    card("Tokens by kind", table([{title: "Kind", cell: r => r[0]}, {title: "Tokens", cell: r => intFmt.format(r[1]), num: true}], kinds, {name: "kinds"})),
    card("About this session", about)));
  main.append(h("div", {class: "grid", style: null}, card("Models", table([
    {title: "Model", cell: r => r.model},
    {title: "Calls", cell: r => intFmt.format(r.calls), num: true},
    {title: "Tokens", cell: r => tokens(r.totalTokens), num: true},
    {title: "Cache hit", cell: r => r.cacheHitRate === null ? "–" : pct(r.cacheHitRate * 100), num: true},
    {title: "Cost", cell: r => cost(r), num: true}], d.models, {name: "session-models"}))));
};

// -- Projects ---------------------------------------------------------------------------------

PAGES.projects = async function (main, params, seq) {
  periodBar(params);
  const d = await api("value", periodParams(params));
  await chartReady;
  if (seq !== renderSeq) return;
  main.append(h("h1", {}, "Projects ", h("span", {class: "muted small"}, periodText(d))));
  if (!d.available) { main.append(card(null, empty(d.reason === "no sessions" ? "No sessions in this period." : "Value figures not available: " + d.reason))); return; }
  main.append(h("p", {class: "muted"}, `A project is a value stream: its sessions' cost against the estimated human-equivalent value (${d.benchmark.region}, ${d.benchmark.seniority}). NVA % is the share of cost in non-value-adding sessions.`));
  const canvas = h("canvas", {id: "projects-chart"});
  const top = d.projects.slice(0, 15);
  main.append(card("Cost and estimated value per project", h("div", {class: "chart-box short"}, canvas)));
  newChart(canvas, {type: "bar", data: {labels: top.map(r => r.name), datasets: [
      {label: "cost", data: top.map(r => r.cost), backgroundColor: COLOURS[1]},
      {label: "estimated value (mid)", data: top.map(r => r.value ? r.value.mid : 0), backgroundColor: COLOURS[2]}]},
    options: {scales: {y: {beginAtZero: true, title: {display: true, text: "USD"}, ticks: {callback: moneyTick}}},
              plugins: {tooltip: {callbacks: {label: ctx => `${ctx.dataset.label}: ${money(ctx.parsed.y)}`}}}}});
  main.append(h("div", {class: "grid", style: null}, card("Value streams", table([
    {title: "Project", cell: r => h("span", {title: r.project || ""}, r.name)},
    {title: "Sessions", cell: r => r.sessions, num: true},
    {title: "Agents", cell: r => r.agents.join(", ")},
    {title: "Cost", cell: r => money(r.cost), num: true},
    {title: "Est. value", cell: r => rangeMoney(r.value), num: true},
    {title: "ROI", cell: r => rangeRoi(r.roi), num: true},
    {title: "NVA %", cell: r => pct(r.nva_pct), num: true}], d.projects, {name: "projects"}))));
  const overlap = card("Overlap: projects where two or more agents worked");
  if (!d.overlap.length) overlap.append(empty("No project had more than one agent."));
  else overlap.append(table([
    {title: "Project", cell: r => r.name},
    {title: "Primary agent", cell: r => r.primary_agent},
    {title: "Its spend", cell: r => money(r.primary_cost), num: true},
    {title: "Others", cell: r => r.others.map(o => `${o.agent} ${money(o.cost)}`).join(", ")},
    {title: "Recoverable", cell: r => money(r.recoverable), num: true}], d.overlap, {name: "overlap"}),
    h("p", {class: "muted small"}, "Primary = the agent with the larger spend; recoverable = what the others spent on the same project."));
  main.append(h("div", {class: "grid", style: null}, overlap));
};

// -- Models -----------------------------------------------------------------------------------

PAGES.models = async function (main, params, seq) {
  periodBar(params);
  const d = await api("models", periodParams(params));
  await chartReady;
  if (seq !== renderSeq) return;
  main.append(h("h1", {}, "Models ", h("span", {class: "muted small"}, periodText(d))));
  main.append(h("div", {class: "grid kpis"},
    kpi("spend", "Spend", cost(d.totals), `${intFmt.format(d.totals.calls)} calls`),
    kpi("tokens", "Tokens", tokens(d.totals.totalTokens), `${d.models.length} models`),
    kpi("cache", "Cache hit rate", d.totals.cacheHitRate === null ? "–" : pct(d.totals.cacheHitRate * 100), "prompt tokens read from cache")));
  if (!d.models.length) { main.append(card(null, empty("No usage in this period."))); return; }
  const canvas = h("canvas", {id: "models-chart"});
  main.append(card("Spend per model", h("div", {class: "chart-box short"}, canvas)));
  newChart(canvas, {type: "bar", data: {labels: d.models.map(m => m.model), datasets: [
      {label: "cost", data: d.models.map(m => m.cost), backgroundColor: d.models.map((m, i) => COLOURS[i % COLOURS.length])}]},
    options: {indexAxis: "y", scales: {x: {beginAtZero: true, title: {display: true, text: "cost (USD)"}, ticks: {callback: moneyTick}}},
              plugins: {legend: {display: false}, tooltip: {callbacks: {label: ctx => {
                const m = d.models[ctx.dataIndex];
                return `${cost(m)} · ${compact(m.totalTokens)} tokens · ${intFmt.format(m.calls)} calls`;
              }}}}}});
  main.append(h("div", {class: "grid", style: null}, card("Per model", table([
    {title: "Model", cell: r => h("span", {}, r.model, r.unpricedCalls ? h("span", {class: "badge unpriced", title: "calls without a price"}, " unpriced") : null)},
    {title: "Calls", cell: r => intFmt.format(r.calls), num: true},
    {title: "Input", cell: r => tokens(r.inputTokens), num: true},
    {title: "Output", cell: r => tokens(r.outputTokens + r.reasoningTokens), num: true},
    {title: "Cache read", cell: r => tokens(r.cacheReadTokens), num: true},
    {title: "Cache write", cell: r => tokens(r.cacheWrite5mTokens + r.cacheWrite1hTokens), num: true},
    {title: "Cache hit", cell: r => r.cacheHitRate === null ? "–" : pct(r.cacheHitRate * 100), num: true},
    {title: "Cost", cell: r => cost(r), num: true}], d.models, {name: "models"}))));
};

// -- Budget -----------------------------------------------------------------------------------

PAGES.budget = async function (main, params, seq) {
  document.getElementById("filters").replaceChildren();
  const [b, s] = await Promise.all([api("budget"), api("subscriptions")]);
  await chartReady;
  if (seq !== renderSeq) return;
  const label = {healthy: "healthy", alert: `past the ${b.alertThresholdPercent}% alert threshold`, over: "over budget", unset: "no budget set"}[b.status];
  main.append(h("h1", {}, `Budget ${b.month} `, h("span", {class: "muted small"}, `as of ${b.asOf}, day ${b.daysElapsed} of ${b.daysInMonth}`)));
  main.append(h("div", {class: "grid kpis"},
    kpi("spent", "Spent month to date", money(b.spent), b.budget ? `${pct(b.percentUsed)} of ${money(b.budget)}` : "no budget set"),
    kpi("projected", "Projected", money(b.projected), b.budget ? `${pct(b.projectedPercent)} of the budget by month end` : "by month end"),
    kpi("daily", "Daily average", money(b.dailyAverage), "per-call spend"),
    kpi("health", "Health", h("span", {class: "health " + (b.colour || "none"), id: "health", "data-status": b.status}, label), b.recommendation)));
  const canvas = h("canvas", {id: "budget-chart"});
  let run = 0;
  const cumulative = b.daily.proportional.map((x, i) => i < b.daysElapsed ? (run += x) + b.fixedCost : null);
  main.append(h("div", {class: "grid two"},
    card("Spend this month", h("div", {class: "chart-box"}, canvas)),
    card("Where it stands", h("dl", {class: "kv"},
      h("dt", {}, "Per-call spend"), h("dd", {}, money(b.proportionalCost) + (b.manualCost ? ` (manual entries ${money(b.manualCost)})` : "")),
      h("dt", {}, "Subscription fees"), h("dd", {}, money(b.fixedCost)),
      h("dt", {}, "Covered by plans"), h("dd", {}, money(b.coveredValue) + " at menu prices (not spend)"),
      h("dt", {}, "Recommendation"), h("dd", {class: "wrap"}, h("strong", {}, b.recommendation), ": ", b.advice),
      ...b.notes.flatMap(n => [h("dt", {}, "Note"), h("dd", {class: "wrap"}, n)])),
      b.suggestions.length ? h("div", {}, h("h2", {}, "Suggestions"), h("ul", {}, b.suggestions.map(x => h("li", {}, x.text || JSON.stringify(x))))) : null)));
  const datasets = [
    {type: "bar", label: "per-call spend that day", data: b.daily.proportional, backgroundColor: COLOURS[0], yAxisID: "y"},
    {type: "line", label: "cumulative (with fees)", data: cumulative, borderColor: COLOURS[1], backgroundColor: COLOURS[1], pointRadius: 0, yAxisID: "y"}];
  if (b.budget) datasets.push({type: "line", label: "budget", data: b.daily.labels.map(() => b.budget), borderColor: COLOURS[6], borderDash: [6, 4], pointRadius: 0, yAxisID: "y"});
  newChart(canvas, {data: {labels: b.daily.labels, datasets},
    options: {interaction: {mode: "index", intersect: false},
              scales: {y: {beginAtZero: true, title: {display: true, text: "USD"}, ticks: {callback: moneyTick}}},
              plugins: {tooltip: {callbacks: {label: ctx => `${ctx.dataset.label}: ${money(ctx.parsed.y)}`}}}}});
  main.append(h("div", {class: "grid", style: null}, card("Subscriptions", subscriptionPanel(s))));
};

// -- Limits -----------------------------------------------------------------------------------

const WINDOW_LABELS = {five_hour: "5-hour", seven_day: "7-day"};
function windowLabel(w) { return WINDOW_LABELS[w] || w; }
function span(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.max(0, Math.round(seconds)), d = Math.floor(s / 86400), hr = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  return d ? `${d}d ${hr}h` : hr ? `${hr}h ${String(m).padStart(2, "0")}m` : `${m}m`;
}
function unixTime(t) { return t ? new Date(t * 1000).toLocaleString([], {month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit"}) : "–"; }

PAGES.limits = async function (main, params, seq) {
  document.getElementById("filters").replaceChildren();
  const d = await api("limits", {days: params.days || "7"});
  await chartReady;
  if (seq !== renderSeq) return;
  const now = d.generated_at;
  main.append(h("h1", {}, "Plan limits ", h("span", {class: "muted small"}, "official 5-hour and 7-day windows")));
  if (!d.windows.length) {
    main.append(empty("No plan-limit figures yet. Claude Code reports them to its status line on Pro/Max plans (token-roi setup claude --statusline); Codex writes them into its rollouts."));
    return;
  }
  main.append(h("div", {class: "grid kpis"}, d.windows.map(w => kpi(`${w.agent}-${w.window}`, `${w.agent} ${windowLabel(w.window)}`,
    w.used_percentage === null ? "–" : pct(w.used_percentage, 0),
    `${w.source}${w.stale && w.source === "official" ? " (stale)" : ""} · resets in ${span(w.resets_in_seconds)}` +
    (w.pace ? ` · pace ${pct(w.pace.projected_at_reset, 0)} at reset` : "")))));
  main.append(card("Windows", table([
    {title: "Agent", cell: w => w.agent}, {title: "Window", cell: w => windowLabel(w.window)},
    {title: "Used", num: true, cell: w => w.used_percentage === null ? "–" : pct(w.used_percentage, 0)},
    {title: "Resets in", num: true, cell: w => span(w.resets_in_seconds)},
    {title: "Pace at reset", num: true, cell: w => w.pace ? `${pct(w.pace.projected_at_reset, 0)} (${w.pace.burn_per_hour}/h, ${w.pace.method})` : "–"},
    {title: "Runs out in", num: true, cell: w => w.pace && w.pace.exhausts_at ? span(w.pace.exhausts_at - now) : "–"},
    {title: "Figure", cell: w => w.source + (w.stale && w.source === "official" ? " (stale)" : "")},
    {title: "Seen", cell: w => unixTime(w.last_seen_at)}], d.windows, {name: "limits-windows"})));
  const canvas = h("canvas", {id: "limits-chart"});
  main.append(card("History of the official figures", h("div", {class: "chart-box"}, canvas)));
  const series = {};
  for (const s of [...d.history].reverse()) (series[`${s.agent} ${windowLabel(s.window)}`] ||= []).push({x: s.captured_at * 1000, y: s.used_percentage});
  newChart(canvas, {type: "line", data: {datasets: Object.entries(series).map(([label, data], i) =>
      ({label, data, stepped: true, borderColor: COLOURS[i % COLOURS.length], backgroundColor: COLOURS[i % COLOURS.length], pointRadius: 2}))},
    options: {parsing: true, scales: {x: {type: "linear", ticks: {callback: v => unixTime(v / 1000)}},
                                      y: {beginAtZero: true, max: 100, title: {display: true, text: "% of the window"}}},
              plugins: {tooltip: {callbacks: {title: items => unixTime(items[0].parsed.x / 1000)}}}}});
  for (const a of d.attribution) {
    const groups = Object.entries(a.groups).filter(([, rows]) => rows.length);
    main.append(card(`What used the ${a.agent} ${windowLabel(a.window)} window (estimate)`,
      h("p", {class: "wrap muted", "data-method": a.method}, `${a.method}: ${a.note}.`),
      a.method === "calibrated" ? h("p", {class: "muted"}, `The ledger explains ${a.explained_points} of ${a.used_percentage} points; unexplained ${a.unexplained_points}.`) : null,
      h("div", {class: "grid two"}, groups.map(([name, rows]) => table([
        {title: name[0].toUpperCase() + name.slice(1), cell: r => name === "project" ? projectName(r.key) : r.key},
        {title: "Cost", num: true, cell: r => money(r.cost_usd)},
        {title: "Points", num: true, cell: r => r.points.toFixed(1)},
        {title: "Range", num: true, cell: r => `${r.low.toFixed(1)}–${r.high.toFixed(1)}`}], rows.slice(0, 8), {name: `attribution-${a.window}-${name}`})))));
  }
  main.append(h("p", {class: "muted small wrap"}, d.method));
};

// -- Prices -----------------------------------------------------------------------------------

const RATE_FIELDS = [["input", "Input"], ["output", "Output"], ["cache_read", "Cache read"],
                     ["cache_write_5m", "Cache write 5m"], ["cache_write_1h", "Cache write 1h"]];

PAGES.prices = async function (main, params, seq) {
  document.getElementById("filters").replaceChildren();
  const d = await api("prices");
  if (seq !== renderSeq) return;
  main.append(h("h1", {}, "Prices"));
  main.append(h("p", {class: "muted"}, "USD per million tokens. Your overrides in ", h("code", {}, d.file),
    " come first, then genai-prices. Saving an override writes that file (checked first) and re-prices the ledger."));
  if (d.error) main.append(errorBox(new Error(d.error)));
  const msg = h("div", {id: "price-message"});
  const model = h("input", {id: "ov-model", class: "wide", placeholder: "model name, e.g. claude-sonnet-4-5", value: params.model || ""});
  const inputs = Object.fromEntries(RATE_FIELDS.map(([f]) => [f, h("input", {id: "ov-" + f, inputmode: "decimal", placeholder: f === "input" ? "required" : "auto"})]));
  const fill = m => {
    model.value = m.model;
    const r = (d.overrides[m.model.toLowerCase()]) || m.rates || {};
    for (const [f] of RATE_FIELDS) inputs[f].value = r[f] === undefined ? "" : String(r[f]);
    model.scrollIntoView({block: "center"});
    model.focus();
  };
  const save = async () => {
    const rates = {};
    for (const [f] of RATE_FIELDS) {
      const raw = inputs[f].value.trim();
      if (raw === "") continue;
      const n = Number(raw);
      rates[f] = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw) && Number.isFinite(n) ? n : raw;   // the library judges it
    }
    msg.replaceChildren();
    try {
      const r = await post("prices", {model: model.value, rates});
      await refreshTable();          // the new figures first, then the message saying so
      msg.replaceChildren(h("div", {class: "ok"}, `Saved ${r.saved.model}; ${intFmt.format(r.repriced)} calls re-priced.`));
    } catch (e) { msg.replaceChildren(errorBox(e)); }
  };
  const form = card("Set an override",
    h("div", {class: "form-row"}, h("label", {}, "Model", model),
      RATE_FIELDS.map(([f, label]) => h("label", {}, label, inputs[f])),
      h("button", {class: "btn primary", id: "ov-save", onclick: save}, "Save override")),
    h("div", {class: "muted small"}, "Rates left empty are filled: Claude models from input (cache read 0.1×, 5-minute write 1.25×, 1-hour write 2×), others at the input rate."),
    msg);
  main.append(form);
  const tableBox = h("div", {id: "price-table"});
  main.append(h("div", {class: "grid", style: null}, card("Effective prices of the models in the ledger", tableBox)));
  const rate = (r, f) => r && r.rates ? String(+r.rates[f].toFixed(4)) : "–";
  async function refreshTable(data) {
    data = data || await api("prices");
    d.overrides = data.overrides;
    const summary = h("p", {class: "muted", id: "price-total"}, `Total cost in the ledger: ${money(data.totalCost)}` +
      (data.unpricedCalls ? ` (${intFmt.format(data.unpricedCalls)} calls without a price)` : ""));
    if (!data.models.length) { tableBox.replaceChildren(summary, empty("The ledger has no calls yet: there is nothing to price.")); return; }
    tableBox.replaceChildren(summary, table([
      {title: "Model", cell: r => r.model},
      {title: "Source", cell: r => h("span", {class: "badge " + (r.source === "override" ? "override" : r.source === "unpriced" ? "unpriced" : "")}, r.source)},
      ...RATE_FIELDS.map(([f, label]) => ({title: label, cell: r => rate(r, f), num: true})),
      {title: "Calls", cell: r => intFmt.format(r.calls), num: true},
      {title: "Cost", cell: r => r.calls && r.unpricedCalls === r.calls ? "n/a*" : money(r.cost) + (r.unpricedCalls ? "*" : ""), num: true},
      {title: "", cell: r => h("span", {},
        h("button", {class: "btn", "data-edit": r.model, onclick: () => fill(r)}, "Edit"),
        r.source === "override" ? h("button", {class: "btn danger", "data-remove": r.model, onclick: async () => {
          msg.replaceChildren();
          try {
            const key = Object.keys(d.overrides).find(k => r.rates && r.rates.model_id && k === r.rates.model_id.toLowerCase()) || r.model;
            const x = await post("prices/remove", {model: key});
            await refreshTable();
            msg.replaceChildren(h("div", {class: "ok"}, `Removed the override for ${x.removed}; ${intFmt.format(x.repriced)} calls re-priced.`));
          } catch (e) { msg.replaceChildren(errorBox(e)); }
        }}, "Remove") : null)},
    ], data.models, {name: "prices"}));
  }
  await refreshTable(d);
};

// -- About ------------------------------------------------------------------------------------

PAGES.about = async function (main, params, seq) {
  document.getElementById("filters").replaceChildren();
  const m = await api("meta");
  if (seq !== renderSeq) return;
  main.append(h("div", {class: "about"},
    h("h1", {}, "About token-roi"),
    card("What is tracked",
      h("p", {}, "Every API call your coding agents made, read from their own local logs: the time, the agent, the session, the project folder, the model and the token counts (uncached input, output, reasoning, cache reads, 5-minute and 1-hour cache writes), each call counted once even when an agent logs it several times."),
      h("p", {}, "Agents read: ", m.agentsSupported.join(", "), ". In this ledger: ", m.agentsInLedger.length ? m.agentsInLedger.join(", ") : "none yet", "."),
      h("p", {}, "From the Claude Code guard hooks: tool-call counts, failures and loop attempts per session, used for the VA / NVA / BVA category and the value estimate.")),
    card("What cannot be tracked",
      h("ul", {},
        h("li", {}, "Usage an agent does not write to a local file (web chat, usage only shown in a vendor's console) unless you import or log it."),
        h("li", {}, "What a flat-fee plan really costs per call: covered usage is shown at menu prices, the fee is the spend."),
        h("li", {}, "The true value of work: the value figures are estimates (ranges) from counted signals, git activity and human market rates, not measurements."))),
    card("How the money is computed",
      h("p", {}, "Cost of a call = Σ tokens × the model's rate per million tokens: uncached input at the input rate, output and reasoning at the output rate, cache reads at the read rate, 5-minute cache writes at 1.25× input and 1-hour writes at 2× input for Claude models (or the rates the price table gives). A call whose prompt is past a long-context threshold bills whole at the higher rates."),
      h("p", {}, "Rates come from your overrides (", h("code", {}, m.pricesFile), ") first, then the genai-prices data. A model no table knows is shown as unpriced (n/a* or a * beside a lower-bound figure), never as $0."),
      h("p", {}, "Cache hit rate = cache reads ÷ (uncached input + cache reads + cache writes): the share of prompt tokens served from the cache."),
      h("p", {}, "Budget: month-to-date per-call spend plus the subscription fees active this month; the projection scales the per-call part by the days left.")),
    card("Privacy",
      h("p", {}, "Everything stays on this machine. The ledger holds counts, times, tool and model names only: never prompt, response or code content. This page is served from 127.0.0.1 and loads nothing from the internet (the chart library ships with token-roi)."),
      h("dl", {class: "kv", id: "files"},
        h("dt", {}, "Ledger"), h("dd", {}, h("code", {}, m.ledger)),
        h("dt", {}, "Settings"), h("dd", {}, h("code", {}, m.configFile)),
        h("dt", {}, "Price overrides"), h("dd", {}, h("code", {}, m.pricesFile)),
        h("dt", {}, "Log"), h("dd", {}, h("code", {}, m.log)),
        h("dt", {}, "Time zone"), h("dd", {}, m.timezone),
        h("dt", {}, "Calls from"), h("dd", {}, m.firstCall ? `${when(m.firstCall)} to ${when(m.lastCall)}` : "no calls yet"),
        h("dt", {}, "Version"), h("dd", {}, m.version)))));
};

// -- the router -------------------------------------------------------------------------------

async function render() {
  const seq = ++renderSeq;
  const {page, params} = route();
  for (const c of charts) c.destroy();
  charts = [];
  delete document.body.dataset.ready;
  delete document.body.dataset.first;
  document.querySelectorAll("#nav a").forEach(a => a.classList.toggle("active", a.dataset.page === (page === "session" ? "sessions" : page)));
  const main = document.getElementById("app");
  main.replaceChildren();
  const fn = PAGES[page];
  try {
    if (!fn) main.append(errorBox(new Error(`no page ${page}`)));
    else await fn(main, params, seq);
  } catch (e) {
    if (seq === renderSeq) main.append(errorBox(e));
  }
  if (seq === renderSeq) { document.body.dataset.ready = page; performance.mark("ready"); }
}

window.addEventListener("hashchange", render);
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", render); else render();
