// Athlete page: trend charts per condition, left/right, targets, trials (replay), session log.
"use strict";
(() => {
  const D = BS.data;
  const $ = (id) => document.getElementById(id);
  const a = D.athlete;
  $("a-name").textContent = a.name;
  const leg = a.dominant_leg ? ` · dominant leg ${a.dominant_leg}` : "";
  $("a-meta").textContent = `${a.team || "no team"}${leg} · ${D.n_trials} trial${D.n_trials === 1 ? "" : "s"}`;
  $("a-report").href = `/report/${encodeURIComponent(a.uid)}`;
  if ($("a-physio")) $("a-physio").href = `/physio?athlete=${encodeURIComponent(a.uid)}`;

  const exportLink = $("a-export");
  if (exportLink) exportLink.href = `/api/athletes/${encodeURIComponent(a.uid)}/trials.csv`;

  // -- trends: each condition's own measures, one point per day (mean, whisker = range) --------
  const keys = Object.keys(D.series).sort((x, y) => D.series[y].n - D.series[x].n);
  const measureOf = (key, measure) => D.series[key]?.measures[measure];
  function series(key, measure, label, color) {
    const m = measureOf(key, measure);
    return m ? [{ label, t: m.t, y: m.y, lo: m.lo, hi: m.hi, n: m.n, n_training: m.n_training, color }] : [];
  }
  const mirror = (k, side) => k.replace(/^single[-_](left|right)/, (m) => m.replace(/left|right/, side));
  function chartBox(title) {
    const box = BS.h(`<div class="chart-box"><h3>${title}</h3><div class="chart"></div></div>`);
    $("charts").append(box);
    return box.querySelector(".chart");
  }
  function showCondition(key) {
    document.querySelectorAll("#cond-tabs button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.key === key)));
    const s = D.series[key];
    $("charts").replaceChildren();
    $("cond-baseline").textContent = s.baseline ? `Changes are measured from the ${BS.baselineText(s.baseline)}.` : "";
    for (const c of s.charts) {
      const title = c.key === "score" ? `${BS.esc(s.score_label)} (0–100)` : `${BS.esc(c.label)}${c.unit ? ` (${BS.esc(c.unit)})` : ""}`;
      const el = chartBox(`${title} <span class="muted hint">${BS.esc(c.hint)}</span>`);
      const band = s.norms && s.norms[c.key];  // the norm's typical band (or why none)
      Charts.trend(el, series(key, c.key, c.label), c.key === "score" ? { yRange: [0, 100], digits: 0 } : { digits: c.digits, band });
    }
    // left against right in the same eyes/surface/task, in the legs' colours
    const lr = s.left_right && Facts.measures[s.left_right];
    if (lr && /^single/.test(s.stance)) {
      const el = chartBox(`Left against right: ${BS.esc(lr.label)}${lr.unit ? ` (${BS.esc(lr.unit)})` : ""}`);
      Charts.trend(el, [
        ...series(mirror(key, "left"), s.left_right, "left", Charts.LEG.left),
        ...series(mirror(key, "right"), s.left_right, "right", Charts.LEG.right),
      ], { legend: true });
    }
    logChart(key);
  }
  // The log (soreness, stiffness, relief 0–10; sleep in hours) on the trends' days, beside them.
  const LOG_COLORS = { soreness: "#ef5350", stiffness: "#f5a524", relief: "#3ecf8e", sleep_hours: "#5aa9ff" };
  function logChart(key) {
    const log = D.log && D.log.series;
    if (!log || !Object.keys(log).length) return;
    const days = Object.values(D.series[key].measures).flatMap((m) => m.t);
    const order = ["soreness", "stiffness", "relief", "sleep_hours"];  // the JSON's keys come sorted
    const lines = order.filter((f) => log[f]).map((field) => [field, log[field]]).map(([field, m]) => ({
      label: `${D.log.fields[field].label}${field === "sleep_hours" ? " (h)" : ""}`,
      t: m.t, y: m.y, lo: m.lo, hi: m.hi, n: m.n, color: LOG_COLORS[field],
    }));
    const el = chartBox('Log: soreness, stiffness, relief <span class="muted hint">0–10 · sleep in hours</span>');
    el.closest(".chart-box").classList.add("log-chart");
    Charts.trend(el, lines, { yRange: [0, 12], digits: 1, xAlso: days, legend: true });
  }
  for (const key of keys) {
    const b = BS.h(`<button type="button" data-key="${BS.esc(key)}">${BS.esc(D.series[key].label)} <span class="muted">(${D.series[key].n})</span></button>`);
    b.addEventListener("click", () => showCondition(key));
    $("cond-tabs").append(b);
  }
  if (keys.length) showCondition(keys[0]);
  else $("charts").replaceChildren(BS.h('<p class="empty">No trials yet: run a test at the kiosk.</p>'));

  // -- left / right (left and right in the legs' colours, as in the L/R chart) ----------------
  const sym = $("sym");
  if (!D.symmetry.length) sym.append(BS.h('<p class="empty">Needs a left and a right single-leg trial in the same condition.</p>'));
  for (const row of D.symmetry) {
    const box = BS.h(`<div style="margin-bottom:.8rem"><h3>${BS.esc(row.condition)}</h3></div>`);
    for (const m of row.measures) {
      const max = Math.max(m.left || 0, m.right || 0) || 1;
      const flag = m.asymmetric ? "chg-down" : "muted";  // a cited threshold, beyond noise
      const unit = m.unit ? ` ${m.unit}` : "";
      box.append(BS.h(`<div class="sym-row"><span class="small">${BS.esc(m.label)}</span>
        <div class="sym-bar" title="left ${BS.num(m.left, m.digits)}${BS.esc(unit)} · right ${BS.num(m.right, m.digits)}${BS.esc(unit)}"><div class="l" style="width:${50 * (m.left || 0) / max}%"></div><div class="r" style="width:${50 * (m.right || 0) / max}%"></div></div>
        <span class="small ${flag}" title="${BS.esc(m.flag_text || "limb symmetry index")}">${m.lsi_pct === null ? "–" : BS.num(m.lsi_pct, 0) + "%"}</span></div>`));
      box.append(BS.h(`<div class="row small" style="justify-content:space-between;margin:-.2rem 0 .3rem 6.9rem;max-width:calc(100% - 10.5rem)"><span class="leg-left">L ${BS.num(m.left, m.digits)}</span><span class="leg-right">R ${BS.num(m.right, m.digits)}</span></div>`));
    }
    sym.append(box);
  }

  // -- targets -------------------------------------------------------------------------------
  const tbox = $("targets");
  if (!D.targets.length) tbox.append(BS.h('<p class="empty">No targets set.</p>'));
  for (const t of D.targets) {
    const pct = t.fraction === null ? 0 : Math.max(0, Math.min(100, 100 * t.fraction));
    const status = t.achieved ? '<span class="pill pill-ok">achieved</span>' : t.on_track === false ? '<span class="pill pill-wait">behind</span>' : t.on_track ? '<span class="pill pill-info">on track</span>' : "";
    const where = t.condition_label || (t.applies_to ? `any condition (measured in ${t.applies_to})` : "any condition");
    const base = t.baseline_info ? ` (${BS.baselineText(t.baseline_info)})` : "";
    const verdict = t.verdict_text ? ` · ${BS.verdictBadge(t.change, t.verdict_text)}` : "";
    tbox.append(BS.h(`<div class="target ${t.on_track === false ? "behind" : ""}">
      <div class="row"><b>${BS.esc(t.label)} ${BS.esc(t.direction)} ${BS.num(t.value)} ${BS.esc(t.unit)}</b><span class="spacer"></span>${status}</div>
      <div class="muted small">${BS.esc(where)} · baseline ${BS.num(t.baseline)}${BS.esc(base)} → now ${BS.num(t.current)}${verdict} · due ${BS.date(t.due_date)}${t.days_left !== null ? ` (${t.days_left} days left)` : ""}</div>
      ${t.problem ? `<div class="problem">${BS.esc(t.problem)}</div>` : ""}
      <div class="bar2" role="progressbar" aria-valuenow="${pct.toFixed(0)}" aria-valuemin="0" aria-valuemax="100"><div style="width:${pct}%"></div></div></div>`));
  }

  // -- trials and replay ---------------------------------------------------------------------
  const tbody = $("trials").querySelector("tbody");
  $("trials-note").textContent = D.n_trials > D.trials.length ? `Newest ${D.trials.length} of ${D.n_trials}. Tap a trial to replay it.` : "Tap a trial to replay its centre of pressure.";
  if (!D.trials.length) tbody.append(BS.h('<tr><td colspan="5" class="empty">No trials yet.</td></tr>'));
  for (const t of D.trials) {
    const km = t.key_measure;
    const held = t.outcome === "complete" ? `✓ ${BS.num(t.planned_s, 0)} s` : t.outcome === "failed" ? `✗ ${BS.esc(t.held_text)}` : "stopped";
    const measure = km.value === null ? "–" : `${BS.num(km.value, km.digits)} <span class="muted small">${BS.esc(km.unit)}</span>`;
    const tr = BS.h(`<tr class="clickable" data-uid="${BS.esc(t.uid)}"><td>${BS.dateTime(t.started_at)}${t.clock_synced ? "" : ' <span class="clock-warn" title="The station clock was not set when this was recorded: the date may be wrong (durations are right)">⚠ clock</span>'}</td><td>${BS.esc(t.condition)}${t.session_kind === "training" ? ' <span class="pill pill-info">training</span>' : ""}</td><td class="score ${BS.scoreClass(t.score)}">${BS.num(t.score, 0)}</td><td class="nw" title="${BS.esc(km.label)}">${measure}</td><td class="nw">${held}</td></tr>`);
    tr.addEventListener("click", () => replay(t));
    tbody.append(tr);
  }

  const view = new BoardView.View($("replay-canvas"), { trailS: 1.0 });
  let anim = null, trace = null;
  async function replay(t) {
    $("replay").hidden = false;
    view.resize();
    $("replay-info").textContent = `${BS.dateTime(t.started_at)} · ${t.condition}`;
    document.querySelectorAll("#replay-export a").forEach((link) => {
      link.href = `/api/trials/${encodeURIComponent(t.uid)}/${link.dataset.kind}.csv`;
      link.hidden = link.dataset.kind !== "metrics" && !t.has_raw;  // samples go with retention
    });
    try { trace = await BS.api("GET", `/api/pages/trace/${encodeURIComponent(t.uid)}`); } catch (e) { BS.toast(e.message, "bad"); return; }
    if (!trace.t.length) { $("replay-info").textContent += ` · ${trace.problem || "no trace"}`; view.path = null; view.dot = null; view.wobble = null; view.draw(); return; }
    view.stance = trace.stance;
    // magnify so the trace fills about half the view (a hold sways a few mm), at most 8x
    const xs = trace.x, ys = trace.y;
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const { halfW, halfL } = BoardView.PLATFORM;
    const span = Math.max(x1 - x0, (y1 - y0) * halfW / halfL, 10);
    view.zoom = Math.min(8, Math.max(1, halfW / span));
    view.center = view.zoom > 1 ? [(x0 + x1) / 2, (y0 + y1) / 2] : [0, 0];
    $("replay").scrollIntoView({ behavior: "smooth", block: "start" });
    play();
  }
  function play() {
    cancelAnimationFrame(anim);
    const t0 = performance.now() / 1000;
    const n = trace.t.length;
    view.path = trace.t.map((_, i) => [trace.x[i], trace.y[i]]);
    let i = 0;
    const frame = () => {
      const now = performance.now() / 1000 - t0;
      while (i < n - 1 && trace.t[i + 1] <= now) i++;
      view.dot = [trace.x[i], trace.y[i]];
      const w = trace.wobble;  // a wobble trial replays as the level (level.js)
      view.wobble = w && w.ml ? { tilt_deg: [w.ml[i], w.ap[i]], rim: w.rim[i], max_tilt_deg: w.max_tilt_deg } : null;
      view.trail = [];
      for (let j = i; j >= 0 && trace.t[i] - trace.t[j] < view.trailS; j--) view.trail.unshift([trace.t[j], trace.x[j], trace.y[j]]);
      view.draw();
      if (i < n - 1) anim = requestAnimationFrame(frame);
    };
    frame();
  }
  $("replay-play").addEventListener("click", () => trace && play());
  $("replay-close").addEventListener("click", () => { cancelAnimationFrame(anim); $("replay").hidden = true; });

  // -- session log (physios edit stiffness, soreness, sleep and notes in place) ---------------
  const sbody = $("sessions").querySelector("tbody");
  function sessionRow(s) {
    const kind = s.kind === "training" ? ` <span class="pill pill-info">training${s.intensity ? `, ${BS.esc(s.intensity)}` : ""}</span>` : "";
    const relief = s.relief === null || s.relief === undefined ? "" : `relief ${s.relief}/10 · `;
    const tr = BS.h(`<tr data-session="${BS.esc(s.uid)}"><td>${BS.date(s.started_at)}${kind}</td><td>${s.stiffness ?? "–"}</td><td>${s.soreness ?? "–"}</td><td>${s.sleep_hours === null ? "–" : BS.num(s.sleep_hours, 1) + " h"}</td><td style="text-align:left">${relief}${BS.esc(s.notes || "")}</td></tr>`);
    if (D.can_edit_log) {
      tr.classList.add("clickable");
      tr.title = "Tap to edit";
      tr.addEventListener("click", () => tr.replaceWith(sessionForm(s)));
    }
    return tr;
  }
  function sessionForm(s) {
    const tr = BS.h(`<tr><td colspan="5"><form class="inline-form">
      <label>Stiffness (0–10)<input name="stiffness" type="number" min="0" max="10" inputmode="numeric" value="${s.stiffness ?? ""}"></label>
      <label>Soreness (0–10)<input name="soreness" type="number" min="0" max="10" inputmode="numeric" value="${s.soreness ?? ""}"></label>
      <label>Sleep (h)<input name="sleep_hours" type="number" min="0" max="24" step="0.5" inputmode="decimal" value="${s.sleep_hours ?? ""}"></label>
      <label>Relief (0–10)<input name="relief" type="number" min="0" max="10" inputmode="numeric" value="${s.relief ?? ""}"></label>
      <label>Notes<input name="notes" maxlength="4000" value="${BS.esc(s.notes || "")}"></label>
      <button class="btn" type="submit">Save</button></form></td></tr>`);
    tr.querySelector("form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const f = ev.target.elements;
      const num = (v) => (v === "" ? null : Number(v));
      const body = { stiffness: num(f.stiffness.value), soreness: num(f.soreness.value), sleep_hours: num(f.sleep_hours.value), relief: num(f.relief.value), notes: f.notes.value || null };
      try {
        await BS.api("PATCH", `/api/sessions/${encodeURIComponent(s.uid)}`, body);
        Object.assign(s, body);
        tr.replaceWith(sessionRow(s));
        BS.toast("Session log saved.", "ok");
      } catch (e) { BS.toast(e.message, "bad"); }
    });
    return tr;
  }
  if (!D.sessions.length) sbody.append(BS.h('<tr><td colspan="5" class="empty">No sessions yet.</td></tr>'));
  for (const s of D.sessions) sbody.append(sessionRow(s));
})();
