// The athlete page's training panel (_training_plan.html): the plan on the ladder with the
// rule's decision and why, every stage change (who, when, why), target suggestions and the
// review of due targets, and adherence; the physio sets the stage with a reason. A coach's
// page shows adherence only. API: /api/athletes/<id>/training/plan|stage|adherence.
"use strict";
(() => {
  const box = document.getElementById("training-plan");
  if (!box) return;
  const $ = (id) => document.getElementById(id);
  const uid = BS.data.athlete.uid;
  const base = `/api/athletes/${encodeURIComponent(uid)}/training`;
  const CHANGE = { start: "started", set: "set by hand", up: "moved up", down: "stepped back" };

  function adherence(a) {
    const [low, high] = a.planned_per_week;
    const last = a.last_trained ? `last trained ${BS.date(a.last_trained)}` : "not trained yet";
    $("tp-adherence").textContent = `${a.this_week} session${a.this_week === 1 ? "" : "s"} this week (plan: ${low}–${high}) · ${last} ${a.full_weeks ? ` · ${a.weeks_on_plan} of the last ${a.full_weeks} full weeks on plan` : ""}${a.hard_sessions ? ` · rest day kept after ${a.rest_days_kept} of ${a.hard_sessions} hard sessions` : ""}`;
    $("tp-weeks").replaceChildren(...a.weeks.map((w) => BS.h(`<div class="wk ${w.status === "on plan" ? "onplan" : w.status === "below" ? "below" : w.status === "before the plan" ? "before" : ""}" title="${BS.esc(w.status)}"><b>${w.sessions}</b>${w.current ? "this week" : `wk ${BS.esc(w.week_start.slice(5))}`}</div>`)));
  }

  function render(plan) {
    const stages = plan.ladder.stages;
    const current = stages.find((s) => s.id === plan.stage);
    $("tp-plan").hidden = false;
    const pill = $("tp-stage-pill");
    pill.hidden = false;
    pill.textContent = `stage ${stages.indexOf(current) + 1} of ${stages.length}`;
    $("tp-now").innerHTML = `<b>${BS.esc(plan.stage_name)}</b>${plan.since ? ` since ${BS.date(plan.since)}` : ""}${plan.pinned ? ' <span class="pill pill-wait">set by hand</span>' : ""}`;
    const d = plan.decision;
    const verb = { up: "Next session: moves up to", down: "Next session: steps back to", stay: "Stays" }[d.action];
    const to = stages.find((s) => s.id === d.to_stage);
    $("tp-decision").textContent = `${verb}${d.action === "stay" ? "" : ` ${to ? to.name : d.to_stage}`}: ${d.reason}.`;
    $("tp-ladder").replaceChildren(...stages.map((s, i) => {
      const what = (it) => it.stance ? `${Facts.stanceLabel(it.stance).toLowerCase()}${it.eyes === "closed" ? ", eyes closed" : ""}${it.surface && it.surface !== "firm" ? `, ${it.surface}` : ""}` : it.trial;
      const items = s.items.map((it) => `${it.sets} × ${it.duration_s} s ${it.task === "hold" ? "" : `${it.task.replace(/_/g, " ")} `}${what(it)}`).join(" · ");
      const cls = [s.id === plan.stage ? "current" : "", s.available ? "" : "skipped"].join(" ");
      const note = s.available ? items : `not on this station yet: ${s.skip_reason}`;
      return BS.h(`<li class="${cls}"><b>${i + 1}. ${BS.esc(s.name)}</b>${s.id === plan.stage ? '<span class="pill pill-ok">now</span>' : ""}<small>${BS.esc(note)}</small></li>`);
    }));
    const select = $("tp-stage");
    if (select) {
      select.replaceChildren(...stages.filter((s) => s.available).map((s) => BS.h(`<option value="${BS.esc(s.id)}">${BS.esc(s.name)}</option>`)));
      select.value = plan.stage;
    }
    const rows = plan.changes.slice().reverse().map((c) => BS.h(`<tr><td class="nw">${BS.date(c.at)}</td><td title="${BS.esc((stages.find((s) => s.id === c.to_stage) || {}).name || c.to_stage)}">${BS.esc(CHANGE[c.change] || c.change)} → stage ${stages.findIndex((s) => s.id === c.to_stage) + 1}</td><td>${BS.esc(c.reason)}</td><td>${BS.esc(c.by)}</td></tr>`));
    $("tp-changes").tBodies[0].replaceChildren(...(rows.length ? rows : [BS.h('<tr><td colspan="4" class="muted">No training yet: the plan starts at the first stage with the first session.</td></tr>')]));
    const targets = plan.targets.suggested.map((t) => {
      const { label, unit } = t;
      const value = t.value === null ? "–" : `${t.direction} ${BS.num(t.value, 1)} ${unit}`;
      return BS.h(`<tr><td>${BS.esc(t.condition_label)}</td><td>${BS.esc(label)}</td><td>${t.baseline === undefined ? "–" : BS.num(t.baseline, 1)}</td><td class="nw">${BS.esc(value)}</td><td>${BS.esc(t.reason)}${t.value === null ? "" : ` · due ${BS.date(t.due_date)}`}</td></tr>`);
    });
    $("tp-targets").tBodies[0].replaceChildren(...targets);
    $("tp-reviews").replaceChildren(...plan.targets.reviews.filter((r) => r.review !== "open").map((r) => BS.h(`<p class="small"><b>Target: ${BS.esc(r.label)} ${BS.num(r.value, 1)} ${BS.esc(r.unit)}</b> due ${BS.date(r.due_date)}: <span class="pill ${r.review === "met" ? "pill-ok" : r.review === "extend" ? "pill-wait" : "pill-bad"}">${BS.esc(r.review)}</span> ${BS.esc(r.reason)}${r.next_assessment ? ` · next assessment ${BS.date(r.next_assessment)}` : ""}</p>`)));
    adherence(plan.adherence);
  }

  async function load() {
    try {
      if (box.dataset.plan === "yes") render(await BS.api("GET", `${base}/plan`));
      else adherence(await BS.api("GET", `${base}/adherence`));
    } catch (e) { $("tp-adherence").textContent = `Training not available: ${e.message}`; }
  }
  const form = $("tp-form");
  if (form) form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await BS.api("POST", `${base}/stage`, { stage: $("tp-stage").value, reason: $("tp-reason").value.trim(), pin: $("tp-pin").checked });
      $("tp-reason").value = "";
      BS.toast("Stage set.", "ok");
      load();
    } catch (e) { BS.toast(e.message, "bad"); }
  });
  load();
})();
