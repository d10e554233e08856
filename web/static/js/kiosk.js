// Kiosk: athlete -> test -> live run (instructions, COP, countdown, timer) -> result card,
// then the protocol's next trial. Live data from LiveStream; trials via the JSON API.
"use strict";
(() => {
  const D = BS.data;
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  // ?duration_s=5 shortens every hold (demos, browser tests); the trial record keeps it.
  const durationOverride = params.get("duration_s") ? Number(params.get("duration_s")) : null;
  // ?from=hop-left starts a picked protocol at that trial (demos, browser tests).
  const startFrom = params.get("from");
  const STATES = Cues.PROMPTS;  // the words at the board (shared with the physio page)
  const st = {
    athlete: null, protocol: null, queue: [], index: 0, seqByTrial: {},
    running: false, awaitingResult: false, restTimer: null, bodyWeight: null,
    run: null,  // the runner's number of the trial this kiosk started (hold.run)
  };

  // -- steps -------------------------------------------------------------------------------
  function show(step) {
    for (const s of ["athlete", "test", "run", "result", "training"]) { const el = $(`step-${s}`); if (el) el.hidden = s !== step; }
    SimPanel.show(step === "run" || step === "result");
    window.scrollTo(0, 0);
  }
  document.querySelectorAll("[data-back]").forEach((b) => b.addEventListener("click", () => show(b.dataset.back)));

  function athleteButton(a) {
    const last = a.last_test ? `last test ${BS.date(a.last_test)}` : "no test yet";
    const b = BS.h(`<button class="pick" data-uid="${BS.esc(a.uid)}"><b>${BS.esc(a.name)}</b><span>${BS.esc(a.team || "")}${a.team ? " · " : ""}${last}</span></button>`);
    b.addEventListener("click", () => pickAthlete(a));
    return b;
  }
  function renderAthletes() {
    const q = $("athlete-search").value.trim().toLowerCase();
    const list = $("athlete-list");
    list.replaceChildren();
    const hits = D.athletes.filter((a) => !q || a.name.toLowerCase().includes(q) || (a.team || "").toLowerCase().includes(q));
    hits.slice(0, 60).forEach((a) => list.append(athleteButton(a)));
    if (!hits.length) list.append(BS.h(`<p class="empty">No athlete matches “${BS.esc(q)}”.</p>`));
    const guest = BS.h('<button class="pick guest"><b>Try without saving</b><span>a quick go on the board; nothing is recorded</span></button>');
    guest.addEventListener("click", () => pickAthlete(null));
    list.append(guest);
  }
  $("athlete-search").addEventListener("input", renderAthletes);

  function pickAthlete(a) {
    KioskRun.clear();  // a run kept for a reload is over once an athlete is picked
    st.athlete = a;
    $("test-athlete").textContent = a ? a.name : "Guest (not saved)";
    const list = $("test-list");
    list.replaceChildren();
    for (const p of D.protocols) {
      const n = p.trials.reduce((k, t) => k + t.count, 0);
      const b = BS.h(`<button class="pick" data-protocol="${BS.esc(p.id)}"><b>${BS.esc(p.name)}</b><span>${BS.esc(p.description)}</span><span>${n} trial${n > 1 ? "s" : ""}</span></button>`);
      b.addEventListener("click", () => pickProtocol(p));
      list.append(b);
    }
    if (a && typeof Training !== "undefined") Training.offer(a, list);  // today's training first (training.js)
    show("test");
  }

  function queueOf(p) {
    const queue = [];
    for (const t of p.trials) for (let r = 1; r <= t.count; r++) queue.push({ trial: t, rep: r, of: t.count });
    return queue;
  }
  function pickProtocol(p) {
    st.protocol = p;
    st.queue = queueOf(p);
    st.index = startFrom ? Math.max(0, st.queue.findIndex((q) => q.trial.id === startFrom)) : 0;
    st.sessionUid = null;
    startCurrent();
  }

  // -- running a trial ---------------------------------------------------------------------
  const view = new BoardView.View($("cop"), { follow: true });
  const player = new BoardView.Player(view);

  function current() { return st.queue[st.index]; }
  // A queue item may carry its own protocol, duration and rest (today's training mixes
  // protocols: training.js); ?duration_s= still shortens every hold.
  const planned = (item) => durationOverride || item.duration_s || item.trial.duration_s;
  const protocolOf = (item) => item.protocolId || st.protocol.id;
  function trialLabel(item) {
    const rep = item.of > 1 ? ` (${item.rep}/${item.of})` : "";
    return `${item.trial.label}${rep}`;  // the condition's name (page_data.protocols_view)
  }

  function showRun() {
    const item = current();
    const t = item.trial;
    $("run-athlete").textContent = st.athlete ? st.athlete.name : "Guest";
    $("run-test").textContent = st.protocol.name;
    $("run-progress").textContent = `trial ${st.index + 1} of ${st.queue.length}`;
    $("instructions").innerHTML = t.instructions.split("\n").filter(Boolean).map((l) => `<span class="line">${BS.esc(l)}</span>`).join("");
    view.stance = t.stance;
    view.target = null;
    view.game = null;
    view.wobble = null;
    setBanner("Arming the test…", "");
    $("overlay").hidden = true;
    $("timer").innerHTML = `${BS.num(planned(item), 0)}<small> s</small>`;
    $("hold-progress").style.width = "0";
    show("run");
  }

  async function startCurrent() {
    clearTimeout(st.restTimer);
    KioskRun.save(st, st.index);
    showRun();
    const item = current(), t = item.trial;
    const key = `${protocolOf(item)}/${t.id}`;
    st.seqByTrial[key] = (st.seqByTrial[key] || 0) + 1;
    const body = { protocol: protocolOf(item), trial: t.id, seq: st.index + 1, screen: "kiosk" };
    if (st.athlete) body.athlete_uid = st.athlete.uid;
    if (durationOverride || item.duration_s) body.duration_s = planned(item);
    try {
      // One session (visit) groups the protocol's trials. None is opened ahead: the station
      // opens it when the first trial is saved (an aborted run leaves no empty session), and
      // the next trials join it (sessionOf, after each saved result).
      if (st.sessionUid) body.session_uid = st.sessionUid;
      const started = await TrialOwner.send("/api/trials/start", body, "Stop that trial and start this one");
      if (!started) { st.running = false; setBanner("Not started: the board is in use", "s-failed"); return; }
      st.run = started.status.run;
      st.running = true; st.awaitingResult = true;
      setBanner(STATES.empty, "s-empty");
    } catch (e) {
      st.running = false;
      setBanner(`Cannot start: ${e.message}`, "s-failed");
    }
  }

  function setBanner(text, cls) {
    const b = $("state-banner");
    b.textContent = text;
    b.className = `state-banner ${cls}`;
  }

  // This kiosk's trial ended without a result to show (stopped here, by another screen,
  // expired): say what happened; nothing re-arms by itself.
  function stopped(why) {
    st.running = false; st.awaitingResult = false;
    clearTimeout(st.restTimer);
    $("overlay").hidden = true;
    setBanner(TrialOwner.abortText(why), "s-aborted");
  }

  function onHold(hold) {
    TrialOwner.line($("state-banner"), hold, !!hold && hold.run === st.run);
    if (!hold || !st.running || !st.protocol) return;
    if (st.run !== null && hold.run !== st.run) {  // another screen took the board over
      stopped({ abort_reason: "operator_took_over", aborted_by: hold.owner && hold.owner.label });
      return;
    }
    if (hold.state === "aborted") { stopped(hold); return; }
    const item = current();
    if (!item || hold.trial_id !== item.trial.id) return;
    const state = hold.state;
    if (hold.body_weight_n) st.bodyWeight = hold.body_weight_n;
    setBanner(Cues.prompt(hold, item.trial), `s-${state}`);
    soundFor(hold);
    const ov = $("overlay");
    if (state === "countdown" && hold.countdown_remaining_s !== null) {
      ov.hidden = false;
      ov.textContent = Math.max(1, Math.ceil(hold.countdown_remaining_s));
    } else {
      ov.hidden = true;
    }
    const total = planned(item);
    if (hold.hold_remaining_s !== null && hold.hold_remaining_s !== undefined) {
      $("timer").innerHTML = `${BS.num(hold.hold_remaining_s, 1)}<small> s left</small>`;
      $("hold-progress").style.width = `${Math.min(100, 100 * (hold.hold_elapsed_s || 0) / total)}%`;
    }
    view.target = hold.target || null;
    view.game = hold.game || null;  // a biofeedback game's targets (games.js)
    view.wobble = hold.wobble || null;  // a wobble trial: the level (level.js)
    if (["complete", "failed", "aborted"].includes(state)) {
      st.running = false;
      if (st.awaitingResult && state !== "aborted") fetchResultSoon();
    }
  }

  // Sound cues (Cues): a tick per countdown second, the start, the end, leaving the drill's
  // target, a failed hold (a touch-down or a step-off); each on the change, once.
  const heard = { state: null, second: null, inside: null };
  function soundFor(hold) {
    const second = hold.state === "countdown" && hold.countdown_remaining_s !== null ? Math.ceil(hold.countdown_remaining_s) : null;
    if (second !== null && second !== heard.second && second >= 1) Cues.play("tick");
    if (hold.state !== heard.state) {
      if (hold.state === "holding") Cues.play("start");
      else if (hold.state === "complete") Cues.play("end");
      else if (hold.state === "failed") Cues.play("touchdown");
    }
    const inside = hold.state === "holding" && hold.target ? Boolean(hold.target.inside) : null;
    if (heard.inside === true && inside === false) Cues.play("leave");
    Object.assign(heard, { state: hold.state, second, inside });
  }
  Cues.toggle($("btn-sound"));

  // The result normally arrives on the live stream; if that message was missed (a phone
  // that slept, a reconnect), ask the API for the station's last result.
  let resultPoll = null;
  function fetchResultSoon() {
    if (resultPoll) return;
    resultPoll = setTimeout(async () => {
      resultPoll = null;
      if (!st.awaitingResult) return;
      try {
        const cur = await BS.api("GET", "/api/trials/current");
        const r = cur.last_result;
        if (r && !(r.trial_uid && r.trial_uid === st.lastShownUid)) onResult(r);
      } catch (e) { /* the stream may still bring it */ }
      if (st.awaitingResult) fetchResultSoon();
    }, 3000);
  }

  function onFrames(msg) {
    const f = msg.frames;
    player.push(f.t, f.cop_live_mm);
    if (!msg.cop_mm) player.clear();
    const kg = Facts.kg(msg.force_n);
    $("kg").textContent = kg === null || kg < 1 ? "–" : `${kg.toFixed(1)} kg`;
    const ref = st.bodyWeight ? Facts.kg(st.bodyWeight) : 120;
    $("weightbar").style.width = kg ? `${Math.min(100, 100 * kg / ref)}%` : "0";
    onHold(msg.hold);
  }

  // -- the result card ---------------------------------------------------------------------
  async function onResult(result) {
    const item = current();
    if (!st.awaitingResult || !item || result.trial_id !== item.trial.id || result.protocol !== protocolOf(item)) return;
    if (st.run !== null && typeof result.run === "number" && result.run !== st.run) return;  // an earlier trial's
    const o = result.outcome || {};
    if (o.state === "aborted") { stopped(result); return; }  // no result card, no next trial
    st.awaitingResult = false; st.running = false;
    st.lastShownUid = result.trial_uid;
    $("res-athlete").textContent = st.athlete ? st.athlete.name : "Guest";
    $("res-test").textContent = trialLabel(item);
    const plannedS = planned(item);  // time held is shown against the plan
    let outcome;
    const game = ["weight_shift", "limits_of_stability", "maze", "toe_taps"].includes(item.trial.task);
    if (o.state === "complete") outcome = game ? "✓ Done" : `✓ Completed: held the full ${BS.num(plannedS, 0)} s`;
    else if (o.state === "failed") outcome = `${Facts.failureLabel(o.failure_reason) || "Failed"}${o.time_to_failure_s !== null ? `: failed at ${BS.num(o.time_to_failure_s, 1)} of ${BS.num(plannedS, 0)} s` : ""}`;
    else outcome = "Stopped";
    $("res-outcome").textContent = outcome;
    $("res-outcome").className = `outcome ${o.state === "complete" ? "chg-up" : "chg-down"}`;
    const task = Facts.tasks[item.trial.task] || Facts.tasks.hold;
    $("res-score-label").textContent = `${task.score_label} (0–100)`;
    $("res-score").textContent = result.score === null ? "–" : BS.num(result.score, 0);
    $("res-score").className = `score-big score ${BS.scoreClass(result.score)}`;
    let card = null;
    if (result.trial_uid) {
      try { card = await BS.api("GET", `/api/pages/result/${encodeURIComponent(result.trial_uid)}`); } catch (e) { card = null; }
    }
    if (card && card.outcome_text) $("res-outcome").textContent = card.outcome_text;  // a game's own measures
    renderMeasures(result, card);
    if (typeof Norms !== "undefined") Norms.showOnCard($("res-measures"), card);  // percentile band, real change
    if (result.trial_uid && st.athlete && !st.sessionUid) st.sessionUid = await sessionOf(result.trial_uid);
    const exports = $("res-export");
    if (exports) {
      exports.hidden = !result.trial_uid;
      exports.querySelectorAll("a").forEach((link) => { link.href = `/api/trials/${encodeURIComponent(result.trial_uid)}/${link.dataset.kind}.csv`; });
    }
    const hasNext = st.index + 1 < st.queue.length;
    if (hasNext) KioskRun.save(st, st.index + 1); else KioskRun.clear();
    $("btn-next").hidden = !hasNext;
    if (hasNext) {
      const next = st.queue[st.index + 1];
      const rest = next.rest_s ?? next.trial.rest_s ?? 0;
      $("res-next").textContent = `Next: ${trialLabel(next)}. Rest ${BS.num(rest, 0)} s; the next trial is armed after the rest.`;
      st.restTimer = setTimeout(() => { if (!$("step-result").hidden) { st.index += 1; startCurrent(); } }, rest * 1000);
    } else {
      $("res-next").textContent = `${st.protocol.name}: all trials done.`;
    }
    // A trial that is not in the history says so on the card, not in a passing toast.
    const unsaved = st.athlete && result.saved === false;
    $("res-saved").hidden = !unsaved;
    if (unsaved) {
      $("res-saved").textContent = result.spooled
        ? "Not saved yet: the station kept this trial and will save it by itself (see Status)."
        : `Not saved: ${result.not_saved_reason || result.error || "the station could not keep this trial"}.`;
    }
    // the test's own first measure (velocity, time to stabilization, excursion) is missing
    const main = card && card.measures.find((m) => m.key !== "score");
    if ((!result.metrics || (main && main.value === null)) && o.state === "complete") {
      const what = main ? main.label : "The trial's measures";
      $("res-compare").textContent = `${what}: not measured for this trial (too short, a gap in the board's signal, or no hop or push seen), so it scores 0. Please repeat it.`;
    }
    show("result");
  }

  // The session the station opened for this run's first saved trial (null: none yet).
  async function sessionOf(trialUid) {
    try { return (await BS.api("GET", `/api/trials/${encodeURIComponent(trialUid)}`)).session_uid || null; } catch (e) { return null; }
  }

  // The trial's own measures (a hop by its landing, a push by the reaction: Facts.tasks),
  // each against the baseline and the last test as the station judged it (BS.changeBadge).
  function metricValue(metrics, key) {
    const v = key.split(".").reduce((m, k) => (m && typeof m === "object" ? m[k] : undefined), metrics);
    return typeof v === "number" ? v : null;
  }
  function heldValue(held) {
    if (held.completed) return `✓<small> ${BS.num(held.planned_s, 0)} of ${BS.num(held.planned_s, 0)} s</small>`;
    return held.held_s === null ? "–" : `${BS.num(held.held_s, 1)}<small> of ${BS.num(held.planned_s, 0)} s</small>`;
  }
  function renderMeasures(result, card) {
    const box = $("res-measures");
    box.replaceChildren();
    const o = result.outcome || {};
    const item = current();
    const plannedS = planned(item);
    const held = card ? card.held : { completed: o.state === "complete", held_s: o.state === "complete" ? plannedS : o.time_to_failure_s, planned_s: plannedS };
    let measures;
    if (card) {
      measures = card.measures.filter((m) => m.key !== "score");
      const b = card.baseline;
      const training = card.session_kind === "training" || b && b.assessment === false;
      $("res-compare").textContent = !b ? "First test in this condition: it becomes the baseline."
        : b.includes_this && training ? (card.session_kind === "training" ? "First training session in this condition: the next ones are compared with it." : "Your first go at this: the next ones are compared with it.")
        : b.includes_this ? `This trial is part of the baseline assessment (${BS.baselineText(b)}).`
        : !b.assessment ? `Compared with your first training session on ${BS.date(b.date)}${card.last_date ? ` and the last one on ${BS.date(card.last_date)}` : ""}. ≈ = within the measurement error.`
        : `Compared with the ${BS.baselineText(b)}${card.last_date ? ` and the last test on ${BS.date(card.last_date)}` : ""}. ≈ = within the measurement error.`;
    } else {
      const task = Facts.tasks[item.trial.task] || Facts.tasks.hold;
      measures = task.measures.map((key) => ({ key, ...Facts.measures[key], digits: Facts.measures[key].unit === "mm²" ? 0 : 1, value: metricValue(result.metrics, key) }));
      $("res-compare").textContent = st.athlete ? "" : "Guest trial: not saved, no comparison.";
    }
    for (const m of measures) {
      const value = m.key === "time_to_failure_s" ? heldValue(held) : `${BS.num(m.value, m.digits)}<small> ${BS.esc(m.unit)}</small>`;
      const cmp = m.vs_baseline !== undefined ? `<div class="c"><span class="muted">vs baseline</span>${BS.changeBadge(m.vs_baseline, m.unit, m.digits)}</div><div class="c"><span class="muted">vs last</span>${BS.changeBadge(m.vs_last, m.unit, m.digits)}</div>` : "";
      box.append(BS.h(`<div class="measure" data-key="${BS.esc(m.key)}"><div class="k">${BS.esc(m.label)}</div><div class="v">${value}</div>${cmp}</div>`));
    }
    if (card) {
      const s = card.measures.find((m) => m.key === "score");
      if (s) box.append(BS.h(`<div class="measure" data-key="score"><div class="k">Score change</div><div class="c"><span class="muted">vs baseline</span>${BS.changeBadge(s.vs_baseline, "points", 0)}</div><div class="c"><span class="muted">vs last</span>${BS.changeBadge(s.vs_last, "points", 0)}</div></div>`));
    }
  }

  $("btn-next").addEventListener("click", () => { st.index += 1; startCurrent(); });
  $("btn-repeat").addEventListener("click", () => startCurrent());
  $("btn-done").addEventListener("click", () => { clearTimeout(st.restTimer); st.protocol = null; KioskRun.clear(); show("athlete"); });
  $("btn-change").addEventListener("click", async () => { await abort(); KioskRun.clear(); show("test"); });
  $("btn-abort").addEventListener("click", abort);
  async function abort() {
    if (!st.running) return;
    try { await BS.api("POST", "/api/trials/current/abort", {}); } catch (e) { BS.toast(e.message, "bad"); }
    st.running = false; st.awaitingResult = false;
    setBanner(STATES.aborted, "s-aborted");
  }

  // The queue's step to come back to ended (complete or failed) while the page reloaded: its
  // result reached no page, so the kept step is still that one (seq = index + 1). Its result
  // may still be on its way (the analysis and the save take a moment after the end).
  function endedWhileAway(cur, saved) {
    const s = cur.status;
    return !!(cur.yours && saved.matches(s) && s.seq === saved.index + 1 && ["complete", "failed"].includes(s.state));
  }
  const resultOf = (cur) => (cur.last_result && cur.last_result.run === cur.status.run ? cur.last_result : null);

  // A reloaded kiosk picks up the trial it started (same kiosk session: `yours`).
  async function resume() {
    let cur;
    try { cur = await BS.api("GET", "/api/trials/current"); } catch (e) { return; }
    const s = cur.status;
    const running = cur.yours && s && !["complete", "failed", "aborted"].includes(s.state);
    const saved = KioskRun.load(D);  // today's training or a test, reloaded in the middle of it
    if (saved && (!running || saved.matches(s))) {
      st.athlete = D.athletes.find((a) => a.uid === saved.athlete_uid) || null;
      st.protocol = saved.protocol;
      st.queue = saved.queue; st.index = saved.index;
      st.sessionUid = running ? s.session_uid || saved.sessionUid : saved.sessionUid;
      if (!running && endedWhileAway(cur, saved)) {  // not run again: its result, then the rest
        showRun();
        st.run = s.run; st.awaitingResult = true;
        const result = resultOf(cur);
        if (result) onResult(result);
        else { setBanner("Saving the result…", `s-${s.state}`); fetchResultSoon(); }  // or the stream's
        return;
      }
      if (!running) { startCurrent(); return; }  // back to the queue: its next step is armed
      showRun();
      st.run = s.run; st.running = true; st.awaitingResult = true;
      onHold(s);
      return;
    }
    if (!running) return;
    const p = D.protocols.find((x) => x.id === s.protocol);
    if (!p) return;
    st.athlete = D.athletes.find((a) => a.uid === s.athlete_uid) || null;
    st.protocol = p;
    st.queue = queueOf(p);
    const bySeq = st.queue[s.seq - 1];
    st.index = bySeq && bySeq.trial.id === s.trial_id ? s.seq - 1 : Math.max(0, st.queue.findIndex((q) => q.trial.id === s.trial_id));
    st.sessionUid = s.session_uid;
    showRun();
    st.run = s.run; st.running = true; st.awaitingResult = true;
    onHold(s);
  }

  // Today's training (training.js) runs its steps through this same run/result flow.
  window.Kiosk = {
    show,
    runQueue(athlete, title, queue, sessionUid) {
      KioskRun.clear();
      st.athlete = athlete;
      st.protocol = { id: "training", name: title };
      st.queue = queue; st.index = 0; st.sessionUid = sessionUid || null;
      startCurrent();
    },
  };

  // -- live stream ---------------------------------------------------------------------------
  if (!D.calibrated) BS.toast("The board is not calibrated: tests cannot be recorded. See Status.", "bad");
  renderAthletes();
  resume();
  LiveStream.pill($("conn"));
  LiveStream.on("frames", onFrames);
  // another kiosk's trial arrives without its result (docs/live-messages.md#who-sees-what)
  LiveStream.on("trial_result", (msg) => { if (msg.result) onResult(msg.result); });
})();
