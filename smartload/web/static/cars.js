// One card per car. Cards are built once and then only updated, so a form a person is
// filling in is not replaced by the next live update.

const cards = new Map();

function field(dl, label, key, make) {
  dl.append(make("dt", null, label));
  const dd = make("dd", null, "–");
  dd.dataset.field = key;
  dl.append(dd);
  return dd;
}

function input(name, type, attrs) {
  const node = document.createElement("input");
  node.name = name;
  node.type = type;
  Object.assign(node, attrs || {});
  return node;
}

function labelled(text, control, make) {
  const label = make("label", null, text);
  label.append(control);
  return label;
}

function button(text, name, cls) {
  const node = document.createElement("button");
  node.textContent = text;
  node.name = name;
  node.type = name === "save" ? "submit" : "button";
  if (cls) node.className = cls;
  return node;
}

function build(v, h) {
  const { make, call, toast, fmtTime } = h;
  const root = make("article", "card car");
  root.dataset.vehicle = v.id;
  const title = make("h3", null);
  const name = make("span", "name", v.title);
  const where = make("span", "where", "");
  title.append(name, where);
  const soc = make("div", "soc");
  const bar = make("div", "bar");
  const fill = make("div", "fill");
  const target = make("div", "target");
  bar.append(fill, target);
  const value = make("span", "value", "–");
  value.dataset.field = "soc";
  soc.append(bar, value);
  const meta = make("p", "muted meta", "");
  meta.dataset.field = "soc-source";
  const dl = make("dl", null);
  const fields = {
    request: field(dl, "Request", "request", make),
    projected: field(dl, "At departure", "projected", make),
    plan: field(dl, "Plan", "plan", make),
    habits: field(dl, "Habits", "habits", make),
  };
  const reason = make("p", "reason", "");

  const form = make("form", "request-form");
  const targetInput = input("target", "number", { min: 1, max: 100, step: 1, required: true });
  const departureInput = input("departure", "time", { required: true });
  const cancel = button("Cancel request", "cancel");
  form.append(labelled("target %", targetInput, make), labelled("departure", departureInput, make), button("Set request", "save", "primary"), cancel);
  form.addEventListener("input", () => { form.dataset.dirty = "1"; });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { vehicle: v.id, target_soc_pct: Number(targetInput.value), departure: departureInput.value };
    const stored = await call("POST", "api/requests", body).catch(() => null);
    if (stored) {
      delete form.dataset.dirty;
      toast(`${v.title}: ${stored.target_soc_pct} % by ${fmtTime(stored.departure, true)}`);
    }
  });
  cancel.addEventListener("click", async () => {
    const answer = await call("DELETE", `api/requests/${encodeURIComponent(v.id)}`).catch(() => null);
    if (answer) toast(answer.cancelled ? `${v.title}: request cancelled` : `${v.title}: no request of its own to cancel`);
  });

  const actions = make("div", "actions");
  const boost = button("Boost 60 min", "boost");
  const refresh = button("Refresh SoC", "refresh");
  const socInput = input("soc", "number", { min: 0, max: 100, step: 1, placeholder: "SoC %" });
  const setSoc = button("Set SoC", "set-soc");
  actions.append(boost, refresh, labelled("SoC by hand", socInput, make), setSoc);
  boost.addEventListener("click", async () => {
    const answer = await call("POST", `api/vehicles/${encodeURIComponent(v.id)}/boost`, { minutes: 60 }).catch(() => null);
    if (answer) toast(`${v.title}: full power until ${fmtTime(answer.until)}`);
  });
  refresh.addEventListener("click", async () => {
    const answer = await call("POST", `api/vehicles/${encodeURIComponent(v.id)}/refresh`).catch(() => null);
    if (answer) toast(`${v.title}: asked the car for its SoC`);
  });
  setSoc.addEventListener("click", async () => {
    if (socInput.value === "") return toast("enter a SoC first", true);
    const answer = await call("POST", `api/vehicles/${encodeURIComponent(v.id)}/soc`, { soc_pct: Number(socInput.value) }).catch(() => null);
    if (answer) { socInput.value = ""; toast(`${v.title}: SoC ${answer.soc_pct} % entered`); }
  });

  const details = make("details", "controls");
  details.append(make("summary", null, "change"), form, actions);
  root.append(title, soc, meta, dl, reason, details);
  return { root, where, fill, target, value, meta, fields, reason, form, targetInput, departureInput };
}

function localHHMM(iso, tz) {
  return new Intl.DateTimeFormat("en-GB", { timeZone: tz, hour: "2-digit", minute: "2-digit", hour12: false }).format(new Date(iso));
}

function update(card, v, h) {
  const { fmtTime, fmtAge } = h;
  const soc = v.soc;
  card.value.textContent = soc ? `${Math.round(soc.soc_pct)} %` : "? %";
  card.fill.style.width = soc ? `${Math.max(0, Math.min(100, soc.soc_pct))}%` : "0";
  card.meta.textContent = soc
    ? `from ${soc.source} · ${soc.measured_at_known ? "" : "at least "}${fmtAge(soc.age_s)} old`
    : "SoC unknown";
  const lp = v.loadpoint;
  // plugged_in is null while evcc does not answer: nobody knows, so the card says so.
  if (v.plugged_in === null) {
    card.where.textContent = `plugged in: unknown (evcc unreachable${lp ? `; last seen at ${lp.name}` : ""})`;
  } else {
    card.where.textContent = lp ? `at ${lp.name}${lp.charging ? ` · charging ${(lp.charge_power_w / 1000).toFixed(1)} kW` : ""}` : "not plugged in";
  }
  const r = v.request;
  const goal = r ? (r.target_soc_pct != null ? `${r.target_soc_pct} %` : `${r.energy_kwh} kWh`) : null;
  card.fields.request.textContent = r ? `${goal} by ${fmtTime(r.departure, true)} (${r.source})` : "none";
  card.target.style.left = r && r.target_soc_pct != null ? `calc(${r.target_soc_pct}% - 1px)` : "-10px";
  const p = v.plan;
  const assumed = p && p.assumed_soc_pct != null;
  card.fields.projected.textContent = p && p.projected_soc_pct != null
    ? `${assumed ? "~ " : ""}${Math.round(p.projected_soc_pct)} %${assumed ? ` (assumed: SoC unknown, planned from ${Math.round(p.assumed_soc_pct)} %)` : ""}`
    : "–";
  card.fields.projected.classList.toggle("assumed", assumed);
  card.fields.projected.classList.toggle("short", Boolean(p && p.shortfall_kwh > 0.05));
  if (p && p.shortfall_kwh > 0.05) card.fields.projected.textContent += ` (${p.shortfall_kwh.toFixed(1)} kWh short)`;
  card.fields.plan.textContent = p ? `${p.energy_kwh.toFixed(1)} kWh for ${p.cost_eur.toFixed(2)} EUR` : "–";
  if (v.boost_until) card.fields.plan.textContent += ` · boost until ${fmtTime(v.boost_until)}`;
  card.reason.textContent = p ? p.reason : "";
  const habit = v.habits;
  card.fields.habits.textContent = habit && habit.text ? habit.text : "not learned yet";
  if (habit && habit.expected) card.fields.habits.textContent += ` · expected ${fmtTime(habit.expected.at)}`;
  const editing = card.form.dataset.dirty || card.form.contains(document.activeElement);
  if (!editing && r) {
    if (r.target_soc_pct != null) card.targetInput.value = String(Math.round(r.target_soc_pct));
    card.departureInput.value = localHHMM(r.departure, h.tz());
  }
}

export function renderCars(box, vehicles, h) {
  for (const v of vehicles) {
    let card = cards.get(v.id);
    if (!card) {
      card = build(v, h);
      cards.set(v.id, card);
      box.appendChild(card.root);
    }
    update(card, v, h);
  }
}
