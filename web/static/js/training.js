// Today's training at the kiosk: for the chosen athlete, the log first (a few taps: soreness,
// stiffness, relief, sleep, a note), then today's list at their stage of the ladder (hard or
// light, or a rest day), then the steps one by one through the kiosk's own trial screens and
// rests (Kiosk.runQueue), all in the training session the log opened. API: GET/POST
// /api/athletes/<id>/training/today|log (docs/training.md).
"use strict";
const Training = (() => {
  const D = BS.data;
  const $ = (id) => document.getElementById(id);
  const st = { athlete: null, answers: {}, today: null, sessionUid: null };
  const SLEEP = [[5, "≤5 h"], [6, "6 h"], [7, "7 h"], [8, "8 h"], [9, "9+ h"]];

  function segment(box, field, values) {
    box.replaceChildren();
    for (const [value, label] of values) {
      const b = BS.h(`<button type="button" aria-pressed="false" data-value="${value}">${BS.esc(label)}</button>`);
      b.addEventListener("click", () => {
        const again = st.answers[field] === value;
        if (again) delete st.answers[field]; else st.answers[field] = value;
        box.querySelectorAll("button").forEach((x) => x.setAttribute("aria-pressed", String(!again && Number(x.dataset.value) === value)));
      });
      box.append(b);
    }
  }
  function resetLog() {
    st.answers = {};
    const scale = [...Array(11).keys()].map((n) => [n, String(n)]);
    document.querySelectorAll("#step-training .tr-scale").forEach((row) => {
      const field = row.dataset.field;
      segment(row.querySelector(".seg"), field, field === "sleep_hours" ? SLEEP : scale);
    });
    $("tr-notes").value = "";
  }

  // A button "Today's training" at the top of the athlete's tests.
  function offer(athlete, list) {
    const b = BS.h(`<button class="pick training" id="pick-training"><b>Today's training</b><span>your session for today at your stage of the plan</span><span>log first, then the list</span></button>`);
    b.addEventListener("click", () => open(athlete));
    list.prepend(b);
  }

  async function open(athlete) {
    st.athlete = athlete; st.sessionUid = null;
    $("tr-athlete").textContent = athlete.name;
    $("tr-plan").hidden = true;
    $("tr-log").hidden = false;
    resetLog();
    Kiosk.show("training");
    try {
      st.today = await BS.api("GET", `/api/athletes/${encodeURIComponent(athlete.uid)}/training/today`);
    } catch (e) { BS.toast(e.message, "bad"); return; }
    $("tr-stage").textContent = `Your stage: ${st.today.stage_name}`;
    if (st.today.session_uid) {  // logged already today: straight to the list
      st.sessionUid = st.today.session_uid;
      render(st.today, null);
    }
  }

  async function save() {
    const body = { ...st.answers };
    const notes = $("tr-notes").value.trim();
    if (notes) body.notes = notes;
    $("tr-save").disabled = true;
    try {
      const made = await BS.api("POST", `/api/athletes/${encodeURIComponent(st.athlete.uid)}/training/log`, body);
      st.sessionUid = made.session_uid;
      st.today = made.today;
      render(made.today, made.decision);
    } catch (e) {
      BS.toast(e.message, "bad");
    } finally { $("tr-save").disabled = false; }
  }

  function trialOf(step) {
    const p = D.protocols.find((x) => x.id === step.protocol);
    return p && p.trials.find((t) => t.id === step.trial);
  }
  function stepLabel(step) {
    const stance = Facts.stanceLabel(step.stance);
    const what = { hold: "Hold", drill: "Target drill" }[step.task] || step.task.replace(/_/g, " ");
    return `${what}: ${stance.toLowerCase()}, eyes ${step.eyes}${step.surface !== "firm" ? `, ${step.surface}` : ""}`;
  }

  function render(today, decision) {
    $("tr-log").hidden = true;
    $("tr-plan").hidden = false;
    $("tr-stage").textContent = `Your stage: ${today.stage_name}`;
    const moved = decision && decision.action !== "stay";
    $("tr-decision").hidden = !moved;
    if (moved) $("tr-decision").textContent = decision.action === "up" ? `Well done: you move up. ${decision.reason}` : `Today a step back: ${decision.reason}`;
    const list = $("tr-steps");
    list.replaceChildren();
    if (today.rest_day || !today.steps.length) {
      $("tr-title").textContent = today.rest_day ? "Rest day" : "Nothing to run";
      $("tr-intensity").textContent = "rest";
      $("tr-reason").textContent = today.reason;
      $("tr-rounds").textContent = "";
      list.append(BS.h(`<li class="tr-rest">${BS.esc(today.rest_day ? "Rest is part of the plan: come back tomorrow." : today.reason)}</li>`));
      $("tr-start").hidden = true;
      return;
    }
    $("tr-title").textContent = `About ${BS.num(today.minutes, 0)} minutes`;
    $("tr-intensity").textContent = today.intensity === "hard" ? "hard day" : "light day";
    $("tr-reason").textContent = today.reason.replace(/^(hard|light): /, (m, w) => `${w === "hard" ? "Hard" : "Light"} day: `);
    // one round, one line per exercise (sets × duration, rest), repeated `rounds` times
    const seen = new Map();
    for (const s of today.steps.filter((x) => x.round === 1)) {
      const key = `${s.protocol}/${s.trial}/${s.duration_s}`;
      if (!seen.has(key)) seen.set(key, { step: s, n: 0 });
      seen.get(key).n += 1;
    }
    $("tr-rounds").textContent = today.rounds > 1 ? `${today.rounds} rounds of:` : "One round of:";
    for (const { step, n } of seen.values()) {
      list.append(BS.h(`<li><b>${BS.esc(stepLabel(step))}</b><br><span>${n} × ${BS.num(step.duration_s, 0)} s, rest ${BS.num(step.rest_s, 0)} s</span></li>`));
    }
    $("tr-start").hidden = false;
  }

  function start() {
    const today = st.today;
    const queue = [];
    for (const s of today.steps) {
      const trial = trialOf(s);
      if (!trial) continue;  // a trial this kiosk's page does not know: skipped
      queue.push({ trial, rep: s.seq, of: today.steps.length, protocolId: s.protocol, duration_s: s.duration_s, rest_s: s.rest_s });
    }
    if (!queue.length) { BS.toast("None of today's steps can run here.", "bad"); return; }
    Kiosk.runQueue(st.athlete, `Today's training (${today.intensity})`, queue, st.sessionUid);
  }

  $("tr-save").addEventListener("click", save);
  $("tr-start").addEventListener("click", start);
  return { offer };
})();
