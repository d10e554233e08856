// Physio: run a battery step by step, and the board panel beside it.
// The battery's progress is the station's (GET /api/sessions/<id>/battery: the session's saved
// trials and its skipped/current steps), so a reload, or another device, resumes it: on load
// the athlete's unfinished battery of today is offered. This page keeps only what the station
// cannot know yet: the trial armed here. Failed steps say why, with a one-tap Repeat; a rest
// counts down after each trial; the banner prompts as the kiosk does (Cues.prompt).
"use strict";
(() => {
  const D = BS.data;
  const $ = (id) => document.getElementById(id);
  const S = D.selected;
  if (!S) return;
  const A = S.athlete;
  const params = new URLSearchParams(location.search);
  // ?duration_s=5 shortens every hold (demos, browser tests); the trial record keeps it.
  const durationOverride = params.get("duration_s") ? Number(params.get("duration_s")) : null;
  const TERMINAL = ["complete", "failed", "aborted"];

  for (const p of D.protocols) $("b-protocol").append(BS.h(`<option value="${BS.esc(p.id)}">${BS.esc(p.name)}</option>`));
  $("b-protocol").value = D.protocols.some((p) => p.id === "baseline") ? "baseline" : D.protocols[0].id;

  const run = {
    battery: null,        // the station's progress of the battery on this page
    fetchedAt: 0,         // when it was read (the rest counts down from its rest_remaining_s)
    armed: false, step: null, attempts: 0,  // the trial armed here: its step and the step's attempts then
    run: null,            // hold.run of that trial
    notSaved: {},         // step -> what the result said when the station could not save it
  };
  const url = (uid, tail = "") => `/api/sessions/${encodeURIComponent(uid)}/battery${tail}`;
  const stepOf = (k) => run.battery && run.battery.steps[k - 1];

  // -- the station's battery -----------------------------------------------------------------
  function adopt(battery) {
    run.battery = battery; run.fetchedAt = Date.now();
    $("b-setup").hidden = !!battery && !battery.finished;
    $("b-run-actions").hidden = !battery || battery.finished;
    render();
  }
  async function reload() {
    if (!run.battery) return;
    try { adopt(await BS.api("GET", url(run.battery.session_uid))); } catch (e) { BS.toast(e.message, "bad"); }
  }
  async function change(tail, body) {
    try {
      adopt(await BS.api("POST", url(run.battery.session_uid, tail), { athlete_uid: A.uid, ...body }));
      return true;
    } catch (e) { BS.toast(e.message, "bad"); return false; }
  }
  function restLeft() {
    if (!run.battery || run.armed) return 0;
    return Math.max(0, run.battery.rest_remaining_s - (Date.now() - run.fetchedAt) / 1000);
  }

  // -- the list ------------------------------------------------------------------------------
  function resultText(s) {
    const r = s.result;
    if (!r) return "";
    const score = r.score === null ? "" : ` <span class="score ${BS.scoreClass(r.score)}">${BS.num(r.score, 0)}</span>`;
    const held = s.status === "done" ? ` <span class="held">held ${BS.num(r.planned_s, 0)} of ${BS.num(r.planned_s, 0)} s</span>` : "";
    return `${score}${held}`;
  }
  function render() {
    const b = run.battery;
    const ol = $("b-steps");
    ol.replaceChildren();
    $("b-progress").hidden = !b;
    if (!b) { $("b-rest").hidden = true; return; }
    const c = b.counts;
    $("b-progress").textContent = `${b.protocol.name}: ${b.finished ? "finished" : b.current ? `step ${b.current} of ${b.n_steps}` : ""} · ${c.done} done${c.failed ? ` · ${c.failed} failed` : ""}${c.skipped ? ` · ${c.skipped} skipped` : ""}`;
    for (const s of b.steps) {
      const current = !b.finished && s.number === b.current;
      const local = run.notSaved[s.number];
      const note = local ? ` <span class="pill ${local.spooled ? "pill-wait" : "pill-bad"}">${local.spooled ? "not saved yet: kept on the station" : `not saved: ${BS.esc(local.reason)}`}</span>` : "";
      const status = s.status === "skipped" ? ' <span class="muted small">skipped</span>' : "";
      const reason = s.reason ? `<span class="reason">${BS.esc(s.reason)}</span>` : s.status === "failed" ? '<span class="reason">Failed</span>' : "";
      const li = BS.h(`<li class="${current ? "current" : ""} ${s.status}" data-step="${s.number}" data-status="${s.status}"><span class="what">${BS.esc(s.label)}${resultText(s)}${status}${note}${reason}</span></li>`);
      const buttons = [];
      if (current && !b.finished) {
        const again = s.status === "failed" || s.status === "done" || local;
        const start = button(run.armed && run.step === s.number ? "Armed…" : again ? "Repeat" : "Start", "", () => arm(s.number));
        start.disabled = run.armed;
        buttons.push(start);
        if (s.status === "failed" || local) buttons.push(button("Next", "btn-ghost", () => next(s.number)));
        else buttons.push(button("Skip", "btn-ghost", () => skip(s.number)));
      } else if (!b.finished && !run.armed && (s.status === "failed" || s.status === "skipped")) {
        buttons.push(button(s.status === "failed" ? "Repeat" : "Run now", "btn-ghost", () => arm(s.number)));
      }
      li.append(...buttons);
      const kc = b.key_change;
      if (kc && kc.step === s.number) li.append(keyChangeLine(kc, b));
      ol.append(li);
    }
    paintRest();
  }
  // The key step against the baseline (station/trials/battery_repeats.py): the verdict on
  // today's mean, and a repeat when averaging could tell a real change from noise (optional).
  function keyChangeLine(kc, b) {
    const trials = kc.trials > 1 ? ` (mean of ${kc.trials} trials)` : "";
    const line = BS.h(`<div class="key-change small" data-verdict="${BS.esc(kc.verdict || "")}">${BS.esc(kc.label)} ${BS.num(kc.value)} ${BS.esc(kc.unit)}${trials} against the baseline ${BS.num(kc.baseline)} ${BS.esc(kc.unit)}: ${BS.verdictBadge(kc, kc.verdict_text)}</div>`);
    if (kc.suggest && !b.finished) {
      const hint = BS.h(`<div class="repeat-hint" role="note"><span>${BS.esc(kc.suggest.reason)}</span></div>`);
      const again = button(kc.suggest.more === 1 ? "Repeat (optional)" : `Repeat ×${kc.suggest.more} (optional)`, "btn-ghost", () => arm(kc.step));
      again.disabled = run.armed;
      again.classList.add("repeat-go");
      hint.append(again);
      line.append(hint);
    }
    return line;
  }
  function button(text, cls, onClick) {
    const b = BS.h(`<button class="btn btn-small ${cls}">${BS.esc(text)}</button>`);
    b.addEventListener("click", onClick);
    return b;
  }

  // The rest before the next trial: a line over the list, the big timer and the banner while
  // nothing is armed. Start stays available (the physio decides).
  function paintRest() {
    const left = restLeft();
    const b = run.battery;
    const upcoming = b && b.current ? stepOf(b.current) : null;
    const show = left > 0 && upcoming && !b.finished;
    $("b-rest").hidden = !show;
    if (show) $("b-rest").textContent = `Rest: ${Math.ceil(left)} s · next: ${upcoming.label}`;
    return show ? left : 0;
  }
  setInterval(paintRest, 500);

  // -- actions -------------------------------------------------------------------------------
  async function arm(k) {
    if (!(await change("/current", { step: k }))) return;
    const s = stepOf(k);
    const body = { protocol: run.battery.protocol.id, trial: s.trial_id, athlete_uid: A.uid, session_uid: run.battery.session_uid, seq: k, screen: "physio" };
    if (durationOverride) body.duration_s = durationOverride;
    let started;
    try { started = await TrialOwner.send("/api/trials/start", body, "Stop that trial and start this one"); } catch (e) { BS.toast(e.message, "bad"); return; }
    if (!started) return;
    delete run.notSaved[k];
    Object.assign(run, { armed: true, step: k, attempts: s.attempts, run: started.status.run });
    view.stance = s.stance;
    render();
  }
  async function skip(k) { await change("/skip", { step: k }); }
  async function next(k) {
    const b = run.battery;
    const later = b.steps.find((s) => s.number > k && s.status === "pending");
    if (later) await change("/current", { step: later.number });
    else await finish();
  }
  async function finish() {
    if (await change("/finish", {})) BS.toast("Battery finished: see the report.", "ok");
  }
  // The trial armed here ended with a result: the station starts the rest and moves the
  // current step on when the step is done (a failed one stays, for Repeat or Next).
  async function stepEnded(k) {
    if (!run.armed || run.step !== k) return;
    run.armed = false;
    await change("/current", { step: k, rest: true });
    if (run.battery && run.battery.current === null && !run.battery.finished) await finish();
  }

  $("b-begin").addEventListener("click", async () => {
    const protocol = D.protocols.find((p) => p.id === $("b-protocol").value);
    const body = { protocol: protocol.id };
    const stiff = $("b-stiff").value, sore = $("b-sore").value;
    if (stiff !== "") body.stiffness = Number(stiff);
    if (sore !== "") body.soreness = Number(sore);
    let session;
    try {
      session = await BS.api("POST", `/api/athletes/${encodeURIComponent(A.uid)}/sessions`, body);
      run.notSaved = {};
      adopt(await BS.api("GET", url(session.uid)));
    } catch (e) { BS.toast(e.message, "bad"); return; }
    $("b-notes").value = "";  // notes belong to the session they were written in
    $("b-resume").hidden = true;
  });
  $("b-finish").addEventListener("click", finish);
  $("b-save-notes").addEventListener("click", async () => {
    if (!run.battery) { BS.toast("Begin a session first.", "bad"); return; }
    try { await BS.api("PATCH", `/api/sessions/${encodeURIComponent(run.battery.session_uid)}`, { notes: $("b-notes").value }); BS.toast("Notes saved.", "ok"); } catch (e) { BS.toast(e.message, "bad"); }
  });
  // Stopping another screen's trial (an athlete's at the kiosk) asks first; that screen is told.
  $("b-abort").addEventListener("click", async () => {
    try {
      if (await TrialOwner.send("/api/trials/current/abort", {}, "Stop that trial")) { run.armed = false; render(); }
    } catch (e) { BS.toast(e.message, "bad"); }
  });

  // -- resume: the athlete's unfinished battery of today, from this device or another --------
  async function offerResume() {
    let open;
    try { open = (await BS.api("GET", `/api/athletes/${encodeURIComponent(A.uid)}/battery`)).open; } catch (e) { return; }
    if (!open) return;
    const c = open.counts;
    const at = open.current ? `step ${open.current} of ${open.n_steps}` : `${open.n_steps} steps`;
    $("b-resume-text").textContent = `Unfinished ${open.protocol.name} from today (started ${BS.dateTime(open.started_at)}): ${c.done} done${c.failed ? `, ${c.failed} failed` : ""}${c.skipped ? `, ${c.skipped} skipped` : ""}.`;
    $("b-resume-go").textContent = `Resume battery from ${at}`;
    $("b-resume").hidden = false;
    $("b-resume-go").onclick = () => resume(open);
    $("b-resume-new").onclick = async () => {
      try { await BS.api("POST", url(open.session_uid, "/finish"), { athlete_uid: A.uid }); } catch (e) { BS.toast(e.message, "bad"); return; }
      $("b-resume").hidden = true;
    };
  }
  async function resume(open) {
    $("b-resume").hidden = true;
    // The rest and the current step as of now, drawn once (drawing `open` first and then the
    // fresh copy replaced the list under the physio's finger).
    let fresh = open;
    try { fresh = await BS.api("GET", url(open.session_uid)); } catch (e) { BS.toast(e.message, "bad"); }
    adopt(fresh);
    try {  // the session's notes, and a trial of this battery still on the board
      const sessions = await BS.api("GET", `/api/athletes/${encodeURIComponent(A.uid)}/sessions`);
      const mine = sessions.sessions.find((s) => s.uid === open.session_uid);
      if (mine && mine.notes) $("b-notes").value = mine.notes;
    } catch (e) { /* a role without the history: no notes to show */ }
    try {
      const cur = await BS.api("GET", "/api/trials/current");
      const st = cur.status;
      if (st && st.session_uid === open.session_uid && !TERMINAL.includes(st.state) && stepOf(st.seq)) {
        Object.assign(run, { armed: true, step: st.seq, attempts: stepOf(st.seq).attempts, run: st.run });
        view.stance = stepOf(st.seq).stance;
        render();
      }
    } catch (e) { /* the stream will show the board */ }
  }

  // -- live ----------------------------------------------------------------------------------
  const view = new BoardView.View($("cop"), { follow: true });
  const player = new BoardView.Player(view);
  let ending = null;  // a result missed on the stream (a phone that slept): read the battery
  // The banner: the athlete's prompt in big type (the kiosk's words), the trial under it.
  function banner(text, what, cls) {
    const el = $("state-banner");
    el.replaceChildren(text);
    if (what) el.append(BS.h(`<small class="banner-what">${BS.esc(what)}</small>`));
    el.className = `state-banner ${cls}`;
  }
  function specOf(h) {
    const ours = run.armed && h.run === run.run ? stepOf(run.step) : null;
    if (ours) return ours;
    const p = D.protocols.find((x) => x.id === h.protocol);
    return p && p.trials.find((t) => t.id === h.trial_id);
  }
  function onFrames(msg) {
    player.push(msg.frames.t, msg.frames.cop_live_mm);
    if (!msg.cop_mm) player.clear();
    const h = msg.hold;
    const mine = !!h && h.run === run.run;
    TrialOwner.line($("state-banner"), h, mine);
    const rest = paintRest();
    if (!run.armed && rest > 0) {
      const upcoming = stepOf(run.battery.current);
      banner("Rest", upcoming ? `next: ${upcoming.label}` : "", "s-ready");  // the timer counts
      $("timer").textContent = `${Math.ceil(rest)} s`;
    }
    if (!h) return;
    if (run.armed && run.run !== null && (h.run !== run.run || h.state === "aborted")) {  // ours ended without a result
      run.armed = false; render();
      const why = h.run !== run.run ? { abort_reason: "operator_took_over", aborted_by: h.owner && h.owner.label } : h;
      BS.toast(`Your trial: ${TrialOwner.abortText(why)}`, "bad");
    }
    if (run.armed && mine && TERMINAL.includes(h.state) && !ending) {
      const k = run.step;
      ending = setTimeout(async () => {
        ending = null;
        if (!run.armed || run.step !== k) return;
        await reload();
        if (stepOf(k) && stepOf(k).attempts > run.attempts) stepEnded(k);
        else if (run.armed && run.step === k) { run.armed = false; render(); }  // ended unsaved
      }, 6000);
    }
    if (!run.armed && rest > 0 && (!h || TERMINAL.includes(h.state))) return;  // resting: the rest line
    const spec = specOf(h);
    banner(h.state === "aborted" ? TrialOwner.abortText(h) : Cues.prompt(h, spec), spec ? spec.label : "", `s-${h.state}`);
    $("timer").textContent = h.state === "countdown" && h.countdown_remaining_s !== null ? Math.ceil(h.countdown_remaining_s) : h.hold_remaining_s !== null ? `${BS.num(h.hold_remaining_s, 1)} s` : "–";
    view.target = h.target || null;
    view.game = h.game || null;  // a biofeedback game's targets (games.js)
    view.wobble = h.wobble || null;  // a wobble trial: the level (level.js)
  }
  function onResult(r) {
    const k = run.step;
    const s = stepOf(k);
    if (!run.armed || !s || r.trial_id !== s.trial_id || r.athlete_uid !== A.uid) return;
    if (run.run !== null && typeof r.run === "number" && r.run !== run.run) return;  // an earlier trial's
    if (r.outcome && r.outcome.state === "aborted") return;  // the status says it (onFrames)
    // a trial the station could not save is no result of the step: say so, offer the repeat
    if (r.saved === false) run.notSaved[k] = { spooled: !!r.spooled, reason: r.not_saved_reason || r.error || "the station could not keep this trial" };
    stepEnded(k);
  }
  LiveStream.pill($("conn"));
  LiveStream.on("frames", onFrames);
  LiveStream.on("trial_result", (m) => { if (m.result) onResult(m.result); });
  SimPanel.show(true);
  offerResume();
})();
