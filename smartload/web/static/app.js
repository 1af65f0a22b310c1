// The dashboard: one live stream (SSE) keeps every section current; forms call the JSON
// API with the bearer token kept in this browser's localStorage.
import { pvLabel, renderChart, renderLegend } from "./chart.js";
import { renderCars } from "./cars.js";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "smartload-token";
const state = { tz: "UTC", now: null, vehicles: [], plan: null, events: [], solarScale: null };

export function fmtTime(iso, withDay = false) {
  if (!iso) return "–";
  const options = { timeZone: state.tz, hour: "2-digit", minute: "2-digit", hour12: false };
  if (withDay) options.weekday = "short";
  return new Intl.DateTimeFormat("en-GB", options).format(new Date(iso));
}

export function fmtAge(seconds) {
  if (seconds == null) return "–";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

function text(node, value) {
  node.textContent = value;
  return node;
}

function make(tag, cls, content) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (content != null) node.textContent = content;
  return node;
}

// -- token and API calls --------------------------------------------------------------

function takeTokenFromHash() {
  const match = location.hash.match(/token=([^&]+)/);
  if (match) {
    localStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
}

function askToken(message) {
  const dialog = $("token-dialog");
  if (message) toast(message, true);
  $("token-input").value = localStorage.getItem(TOKEN_KEY) || "";
  dialog.showModal();
}

export async function call(method, path, body) {
  const headers = { Authorization: `Bearer ${localStorage.getItem(TOKEN_KEY) || ""}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const answer = await response.json().catch(() => ({}));
  if (response.status === 401) {
    askToken("This change needs the API token.");
    throw new Error(answer.error || "token needed");
  }
  if (!response.ok) {
    toast(answer.error || `${response.status} ${response.statusText}`, true);
    throw new Error(answer.error || String(response.status));
  }
  return answer;
}

let toastTimer = null;
export function toast(message, error = false) {
  const node = $("toast");
  node.textContent = message;
  node.classList.toggle("error", error);
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, 5000);
}

// -- sections -----------------------------------------------------------------------

function pill(node, label, cls) {
  node.textContent = label;
  node.className = `pill ${cls || ""}`;
}

function renderHealth(health) {
  state.now = health.now;
  text($("clock"), fmtTime(health.now, true));
  pill($("h-evcc"), health.evcc_reachable ? "evcc ok" : "evcc unreachable", health.evcc_reachable ? "ok" : "bad");
  const sim = $("h-sim");
  sim.hidden = !health.simulator;
  if (health.simulator) pill(sim, `simulator · ${+health.simulator.speed.toFixed(1)}× speed`, "warn");
  pill($("h-tick"), `tick ${fmtTime(health.last_tick_at)}`, health.last_tick_at ? "" : "warn");
  const solve = health.last_solve_s == null ? "" : ` ${(health.last_solve_s * 1000).toFixed(0)} ms`;
  const status = health.last_plan_status || "none";
  pill($("h-plan"), `plan ${status}${solve}`, status === "optimal" ? "ok" : status === "none" ? "warn" : "");
  if (health.mode === "observe") pill($("h-plan"), `observe only · plan ${status}${solve}`, "warn");
  // evcc silent for two poll intervals: the plan shown is not acted on.
  if (health.plan_stale) pill($("h-plan"), `plan stale: ${health.plan_stale}`, "bad");
}

function renderHandoff(handoff) {
  const node = $("handoff");
  node.hidden = !handoff;
  // The server words it in the site's time zone, with the names used everywhere else.
  if (handoff) node.textContent = `Next: ${handoff.message}`;
}

function renderSettings(rows, site) {
  const body = $("settings").tBodies[0];
  body.replaceChildren();
  for (const row of rows) {
    const tr = document.createElement("tr");
    const owner = make("td", `owner-${row.owner.split(" ")[0]}`, row.owner === "person" ? "a person (paused until unplug)" : row.owner);
    const wants = make("td", null, row.desired == null ? "–" : row.desired);
    if (row.reason) wants.title = row.reason;
    const setting = make("td", null, row.wallbox ? `${row.wallbox} · ${row.setting}` : row.setting);
    setting.title = row.key;
    tr.append(setting, make("td", null, row.observed == null ? "–" : row.observed), wants, owner);
    body.appendChild(tr);
  }
  if (!rows.length) body.appendChild(make("tr")).appendChild(make("td", "muted", "no car plugged in"));
  if (site) {
    const kw = (w) => (w == null ? "–" : `${(w / 1000).toFixed(1)} kW`);
    const battery = site.battery ? ` · battery ${site.battery.soc_pct} % (${site.battery.mode || "normal"})` : "";
    text($("site"), `grid ${kw(site.grid_power_w)} · PV ${kw(site.pv_power_w)} · house ${kw(site.home_power_w)}${battery}` +
      (site.tariff_grid != null ? ` · ${(site.tariff_grid * 100).toFixed(1)} ct/kWh now` : ""));
  }
}

function renderPlan(plan) {
  state.plan = plan;
  const ids = state.vehicles.map((v) => v.id);
  const titles = Object.fromEntries(state.vehicles.map((v) => [v.id, v.title]));
  renderChart($("chart"), plan, ids, state.tz, state.now);
  renderLegend($("legend"), ids, titles, pvLabel(state.solarScale));
  text($("plan-summary"), plan ? `${plan.cost_eur.toFixed(2)} EUR · made ${fmtTime(plan.created_at)}` : "");
  const status = $("plan-status");
  status.hidden = !plan;
  status.textContent = plan ? plan.status_text : "";
  status.className = `plan-status status-${plan ? plan.status : "none"}`;
  $("h-plan").title = plan ? plan.status_text : "";
  const list = $("explanations");
  list.replaceChildren();
  for (const e of (plan && plan.explanations) || []) list.appendChild(make("li", null, `${e.device}: ${e.text}`));
}

function eventItem(event) {
  const li = make("li", null);
  li.append(make("time", "muted", fmtTime(event.at)), make("span", `kind kind-${event.kind}`, event.kind), make("span", "text", event.text));
  return li;
}

function renderEvents(events) {
  const list = $("events");
  list.replaceChildren(...events.map(eventItem));
}

function addEvent(event) {
  const list = $("events");
  list.prepend(eventItem(event));
  while (list.children.length > 200) list.lastChild.remove();
}

async function loadHistory() {
  const answer = await fetch("api/history?days=7").then((r) => (r.ok ? r.json() : null)).catch(() => null);
  if (!answer) return;
  text($("history-method"), answer.method);
  const body = $("history").tBodies[0];
  body.replaceChildren();
  const eur = (v) => `${(Math.abs(v) < 0.005 ? 0 : v).toFixed(2)} EUR`;  // no "-0.00"
  const date = new Intl.DateTimeFormat("en-GB", { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
  for (const day of answer.days) {
    const kwh = (f) => f.import_kwh + f.export_kwh + Object.values(f.cars).reduce((a, c) => a + c.kwh, 0);
    if (kwh(day.planned) + kwh(day.actual) === 0) continue;
    const cars = new Set([...Object.keys(day.planned.cars), ...Object.keys(day.actual.cars)]);
    const energy = [...cars].map((c) => `${c} ${(day.planned.cars[c]?.kwh ?? 0).toFixed(1)} / ${(day.actual.cars[c]?.kwh ?? 0).toFixed(1)} kWh`).join(", ");
    const tr = document.createElement("tr");
    tr.append(make("td", null, date.format(new Date(`${day.date}T12:00:00Z`))), make("td", null, eur(day.planned.cost_eur)), make("td", null, eur(day.actual.cost_eur)), make("td", null, energy || "–"));
    body.appendChild(tr);
  }
  if (!body.children.length) body.appendChild(make("tr")).appendChild(make("td", "muted", "nothing measured yet"));
}

function renderLive(live) {
  renderHealth(live.health);
  const scale = JSON.stringify(live.solar_scale);
  if (scale !== JSON.stringify(state.solarScale)) {
    state.solarScale = live.solar_scale;
    if (state.plan !== undefined) renderPlan(state.plan);  // the legend names the scale
  }
  state.vehicles = live.vehicles;
  renderCars($("cars"), live.vehicles, { fmtTime, fmtAge, call, toast, make, tz: () => state.tz });
  renderHandoff(live.handoff);
  renderSettings(live.evcc_settings, live.site);
}

// -- live stream --------------------------------------------------------------------

function connect() {
  const source = new EventSource("api/stream");
  source.addEventListener("open", () => pill($("h-live"), "live", "ok"));
  source.addEventListener("error", () => pill($("h-live"), "reconnecting", "warn"));
  source.addEventListener("dashboard", (e) => {
    const d = JSON.parse(e.data);
    state.tz = d.timezone;
    renderLive(d);
    renderPlan(d.plan);
    renderEvents(d.events);
    document.body.dataset.ready = "1";
  });
  source.addEventListener("live", (e) => renderLive(JSON.parse(e.data)));
  source.addEventListener("plan", (e) => { renderPlan(JSON.parse(e.data)); loadHistory(); });
  source.addEventListener("event", (e) => addEvent(JSON.parse(e.data)));
}

function init() {
  takeTokenFromHash();
  let resized = null;
  window.addEventListener("resize", () => {
    clearTimeout(resized);
    resized = setTimeout(() => renderPlan(state.plan), 150);
  });
  $("token-button").addEventListener("click", () => askToken());
  $("token-form").addEventListener("submit", (e) => {
    if (e.submitter && e.submitter.value === "save") {
      localStorage.setItem(TOKEN_KEY, $("token-input").value.trim());
      toast("token saved in this browser");
    }
  });
  connect();
  loadHistory();
}

init();
