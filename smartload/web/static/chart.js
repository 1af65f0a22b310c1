// The plan chart: stacked power per slot (each car, battery charging above zero,
// battery discharging below), the PV forecast as an area and the grid price as a step
// line on the right axis. Plain SVG, no library.

const NS = "http://www.w3.org/2000/svg";
export const CAR_COLORS = ["#2a9d8f", "#e76f51", "#8e44ad", "#3a86ff", "#d4a017", "#c2185b"];
export const BATTERY_COLOR = "#6c757d";
const DISCHARGE_OPACITY = 0.45;  // the discharge bars and their legend swatch

function el(name, attrs, parent) {
  const node = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
  if (parent) parent.appendChild(node);
  return node;
}

function niceStep(span, count) {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw || 1));
  for (const factor of [1, 2, 2.5, 5, 10]) if (raw <= factor * power) return factor * power;
  return 10 * power;
}

export function carColor(cars, id) {
  const index = cars.indexOf(id);
  return CAR_COLORS[(index < 0 ? cars.length : index) % CAR_COLORS.length];
}

export function renderChart(box, plan, cars, tz, nowIso) {
  box.replaceChildren();
  if (!plan || !plan.slots || plan.slots.length === 0) {
    const p = document.createElement("p");
    p.className = "muted";
    p.textContent = "No plan yet: smartload plans once evcc answers and prices are known.";
    box.appendChild(p);
    return;
  }
  const slots = plan.slots;
  // Drawn at the box's own pixel width, so text keeps its size on a phone.
  const W = Math.max(340, Math.round(box.clientWidth || 1000));
  const H = W < 600 ? 260 : 320, m = { l: 38, r: 40, t: 24, b: 30 };
  const pw = W - m.l - m.r, ph = H - m.t - m.b;
  const t0 = Date.parse(slots[0].start), t1 = Date.parse(slots[slots.length - 1].end);
  const x = (t) => m.l + ((t - t0) / (t1 - t0)) * pw;

  let up = 1, down = 0, pMin = 0, pMax = 0.01;
  for (const s of slots) {
    const cars_w = Object.values(s.cars).reduce((a, c) => a + c.power_w, 0);
    up = Math.max(up, (cars_w + s.battery_charge_w) / 1000, s.pv_w / 1000);
    down = Math.max(down, s.battery_discharge_w / 1000);
    pMin = Math.min(pMin, s.import_eur_per_kwh);
    pMax = Math.max(pMax, s.import_eur_per_kwh);
  }
  const kwStep = niceStep(up + down, 5);
  const top = Math.ceil(up / kwStep) * kwStep, bottom = Math.ceil(down / kwStep) * kwStep;
  const y = (kw) => m.t + ((top - kw) / (top + bottom)) * ph;
  const ctStep = niceStep((pMax - pMin) * 100, 5);
  const ctLow = Math.floor((pMin * 100) / ctStep) * ctStep, ctHigh = Math.ceil((pMax * 100) / ctStep) * ctStep;
  const yp = (eur) => m.t + ((ctHigh - eur * 100) / (ctHigh - ctLow || 1)) * ph;

  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "plan over the price curve" });
  el("title", {}, svg).textContent = "Planned power per slot over the grid price";
  const axis = el("g", { class: "axis" }, svg);
  for (let kw = -bottom; kw <= top + 1e-9; kw += kwStep) {
    el("line", { class: "grid", x1: m.l, x2: W - m.r, y1: y(kw), y2: y(kw) }, axis);
    el("text", { x: m.l - 6, y: y(kw) + 4, "text-anchor": "end" }, axis).textContent = `${+kw.toFixed(1)}`;
  }
  el("text", { x: m.l - 6, y: m.t - 12, class: "label", "text-anchor": "end" }, axis).textContent = "kW";
  for (let ct = ctLow; ct <= ctHigh + 1e-9; ct += ctStep) {
    el("text", { x: W - m.r + 6, y: yp(ct / 100) + 4 }, axis).textContent = `${+ct.toFixed(1)}`;
  }
  el("text", { x: W - 2, y: m.t - 12, class: "label", "text-anchor": "end" }, axis).textContent = "ct/kWh";

  const hour = new Intl.DateTimeFormat("en-GB", { timeZone: tz, hour: "2-digit", minute: "2-digit", hour12: false });
  const day = new Intl.DateTimeFormat("en-GB", { timeZone: tz, weekday: "short" });
  for (const s of slots) {
    const t = Date.parse(s.start);
    const label = hour.format(new Date(t));
    if (label.endsWith(":00") && Number(label.slice(0, 2)) % (W < 600 ? 6 : 3) === 0) {
      el("line", { class: "grid", x1: x(t), x2: x(t), y1: m.t, y2: H - m.b }, axis);
      el("text", { x: x(t), y: H - m.b + 14, "text-anchor": "middle" }, axis).textContent =
        label === "00:00" ? day.format(new Date(t)) : label;
    }
  }

  const pv = slots.flatMap((s) => [[x(Date.parse(s.start)), y(s.pv_w / 1000)], [x(Date.parse(s.end)), y(s.pv_w / 1000)]]);
  const pvPath = `M${x(t0)},${y(0)} ` + pv.map(([a, b]) => `L${a.toFixed(1)},${b.toFixed(1)}`).join(" ") + ` L${x(t1)},${y(0)} Z`;
  el("path", { class: "pv", d: pvPath }, svg);

  const bars = el("g", { class: "bars" }, svg);
  for (const s of slots) {
    const a = x(Date.parse(s.start)), b = x(Date.parse(s.end));
    const width = Math.max(0.5, b - a - 0.6);
    let stack = 0;
    const parts = [];
    for (const id of cars) {
      const c = s.cars[id];
      if (c && c.power_w > 0) parts.push([`bar car car-${id}`, carColor(cars, id), c.power_w / 1000, `${id} ${(c.power_w / 1000).toFixed(1)} kW`]);
    }
    if (s.battery_charge_w > 0) parts.push(["bar battery", BATTERY_COLOR, s.battery_charge_w / 1000, `battery +${(s.battery_charge_w / 1000).toFixed(1)} kW`]);
    for (const [cls, fill, kw, text] of parts) {
      const rect = el("rect", { class: cls, x: a, width, y: y(stack + kw), height: Math.max(0, y(stack) - y(stack + kw)), fill }, bars);
      el("title", {}, rect).textContent = `${hour.format(new Date(Date.parse(s.start)))} ${text}`;
      stack += kw;
    }
    if (s.battery_discharge_w > 0) {
      const kw = s.battery_discharge_w / 1000;
      const rect = el("rect", { class: "bar battery discharge", x: a, width, y: y(0), height: y(-kw) - y(0), fill: BATTERY_COLOR, "fill-opacity": DISCHARGE_OPACITY }, bars);
      el("title", {}, rect).textContent = `${hour.format(new Date(Date.parse(s.start)))} battery −${kw.toFixed(1)} kW`;
    }
  }
  el("line", { class: "grid", x1: m.l, x2: W - m.r, y1: y(0), y2: y(0), stroke: "currentColor" }, svg);

  const price = slots.flatMap((s) => [[x(Date.parse(s.start)), yp(s.import_eur_per_kwh)], [x(Date.parse(s.end)), yp(s.import_eur_per_kwh)]]);
  el("path", { class: "price", d: "M" + price.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(" L") }, svg);

  const now = Date.parse(nowIso);
  if (now >= t0 && now <= t1) el("line", { class: "now", x1: x(now), x2: x(now), y1: m.t, y2: H - m.b }, svg);
  box.appendChild(svg);
}

// The PV area's name says when the plan scales the forecast by today's production.
export function pvLabel(scale) {
  if (!scale || (scale.day === 1 && scale.now === 1)) return "PV forecast";
  return `PV forecast × ${scale.day.toFixed(2)} (today's production)`;
}

export function renderLegend(list, cars, titles, pv = "PV forecast") {
  list.replaceChildren();
  const items = cars.map((id) => [carColor(cars, id), titles[id] || id]);
  items.push([BATTERY_COLOR, "home battery charging"], [BATTERY_COLOR, "home battery discharging (below 0)", DISCHARGE_OPACITY, "discharge"],
    ["#f4a261", pv, undefined, "pv"], ["#1d3557", "grid price (right axis)"]);
  for (const [color, text, opacity, key] of items) {
    const li = document.createElement("li");
    const swatch = document.createElement("i");
    swatch.style.background = color;
    if (opacity != null) swatch.style.opacity = String(opacity);
    if (key) li.dataset.key = key;
    li.append(swatch, text);
    list.appendChild(li);
  }
}
