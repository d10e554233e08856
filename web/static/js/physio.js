// Physio: run a battery step by step (start, repeat, skip, notes) and set targets.
"use strict";
(() => {
  const D = BS.data;
  const $ = (id) => document.getElementById(id);
  for (const a of D.athletes) $("p-athlete").append(BS.h(`<option value="${BS.esc(a.uid)}">${BS.esc(a.name)}${a.team ? " · " + BS.esc(a.team) : ""}</option>`));
  $("p-athlete").addEventListener("change", () => { location.search = $("p-athlete").value ? `?athlete=${encodeURIComponent($("p-athlete").value)}` : ""; });
  const S = D.selected;
  if (!S) return;
  const A = S.athlete;
  $("p-athlete").value = A.uid;
  $("p-none").hidden = true; $("p-main").hidden = false;
  $("p-name").textContent = A.name;
  $("p-history").href = `/athletes/${encodeURIComponent(A.uid)}`;
  $("p-report").href = `/report/${encodeURIComponent(A.uid)}`;
  const params = new URLSearchParams(location.search);
  const durationOverride = params.get("duration_s") ? Number(params.get("duration_s")) : null;

  // -- battery -------------------------------------------------------------------------------
  for (const p of D.protocols) $("b-protocol").append(BS.h(`<option value="${BS.esc(p.id)}">${BS.esc(p.name)}</option>`));
  $("b-protocol").value = D.protocols.some((p) => p.id === "baseline") ? "baseline" : D.protocols[0].id;
  const run = { session: null, steps: [], index: -1, armed: false, run: null };  // run: hold.run of our trial

  function stepsFor(protocol) {
    const out = [];
    for (const t of protocol.trials) for (let r = 1; r <= t.count; r++) out.push({ trial: t, rep: r, of: t.count, status: "pending", result: null });
    return out;
  }
  function label(s) {
    const t = s.trial;
    return `${Facts.stanceShort(t.stance)} · eyes ${t.eyes}${t.surface !== "firm" ? " · " + t.surface : ""}${t.task !== "hold" ? " · " + t.task : ""}${s.of > 1 ? ` (${s.rep}/${s.of})` : ""}`;
  }
  function renderSteps() {
    const ol = $("b-steps");
    ol.replaceChildren();
    run.steps.forEach((s, i) => {
      const cls = `${i === run.index ? "current" : ""} ${s.status === "done" ? "done" : ""}`;
      const saved = s.status === "spooled" ? ' <span class="pill pill-wait">not saved yet: kept on the station</span>'
        : s.status === "unsaved" ? ` <span class="pill pill-bad">not saved: ${BS.esc(s.result.not_saved_reason || s.result.error || "")}</span>` : "";
      const res = s.result ? ` <span class="score ${BS.scoreClass(s.result.score)}">${BS.num(s.result.score, 0)}</span> <span class="muted small">${s.result.outcome.state}</span>${saved}` : s.status === "skipped" ? ' <span class="muted small">skipped</span>' : "";
      const li = BS.h(`<li class="${cls}"><span>${BS.esc(label(s))}${res}</span><span class="spacer"></span></li>`);
      if (i === run.index) {
        const start = BS.h(`<button class="btn btn-small">${s.result ? "Repeat" : run.armed ? "Armed…" : "Start"}</button>`);
        start.disabled = run.armed;
        start.addEventListener("click", () => arm());
        const skip = BS.h('<button class="btn btn-small btn-ghost">Skip</button>');
        skip.addEventListener("click", () => { if (!s.result) s.status = "skipped"; advance(); });
        li.append(start, skip);
        if (s.result) {
          const next = BS.h('<button class="btn btn-small btn-ghost">Next</button>');
          next.addEventListener("click", advance);
          li.append(next);
        }
      }
      ol.append(li);
    });
  }
  function advance() {
    run.index += 1; run.armed = false;
    if (run.index >= run.steps.length) { BS.toast("Battery finished: see the report.", "ok"); run.index = -1; }
    renderSteps();
  }
  $("b-begin").addEventListener("click", async () => {
    const protocol = D.protocols.find((p) => p.id === $("b-protocol").value);
    const body = { protocol: protocol.id };
    const stiff = $("b-stiff").value, sore = $("b-sore").value;
    if (stiff !== "") body.stiffness = Number(stiff);
    if (sore !== "") body.soreness = Number(sore);
    try {
      run.session = (await BS.api("POST", `/api/athletes/${encodeURIComponent(A.uid)}/sessions`, body)).uid;
    } catch (e) { BS.toast(e.message, "bad"); return; }
    run.protocol = protocol; run.steps = stepsFor(protocol); run.index = 0; run.armed = false;
    $("b-notes").value = "";  // notes belong to the session they were written in
    $("b-begin").textContent = "New session";
    renderSteps();
  });
  async function arm() {
    const s = run.steps[run.index];
    const body = { protocol: run.protocol.id, trial: s.trial.id, athlete_uid: A.uid, session_uid: run.session, seq: run.index + 1, screen: "physio" };
    if (durationOverride) body.duration_s = durationOverride;
    let started;
    try { started = await TrialOwner.send("/api/trials/start", body, "Stop that trial and start this one"); } catch (e) { BS.toast(e.message, "bad"); return; }
    if (!started) return;
    run.run = started.status.run;
    run.armed = true; view.stance = s.trial.stance;
    renderSteps();
  }
  $("b-save-notes").addEventListener("click", async () => {
    if (!run.session) { BS.toast("Begin a session first.", "bad"); return; }
    try { await BS.api("PATCH", `/api/sessions/${encodeURIComponent(run.session)}`, { notes: $("b-notes").value }); BS.toast("Notes saved.", "ok"); } catch (e) { BS.toast(e.message, "bad"); }
  });
  // Stopping another screen's trial (an athlete's at the kiosk) asks first; that screen is told.
  $("b-abort").addEventListener("click", async () => {
    try {
      if (await TrialOwner.send("/api/trials/current/abort", {}, "Stop that trial")) { run.armed = false; renderSteps(); }
    } catch (e) { BS.toast(e.message, "bad"); }
  });

  // -- live ----------------------------------------------------------------------------------
  const view = new BoardView.View($("cop"), { follow: true });
  const player = new BoardView.Player(view);
  const STATES = { empty: "Waiting for the athlete", on_board: "On the board: weighing", ready: "Ready", countdown: "Countdown", holding: "Holding", complete: "Complete", failed: "Failed", aborted: "Stopped" };
  function onFrames(msg) {
    player.push(msg.frames.t, msg.frames.cop_live_mm);
    if (!msg.cop_mm) player.clear();
    const h = msg.hold;
    TrialOwner.line($("state-banner"), h, !!h && h.run === run.run);
    if (!h) return;
    if (run.armed && run.run !== null && (h.run !== run.run || h.state === "aborted")) {  // ours ended without a result
      run.armed = false; renderSteps();
      const why = h.run !== run.run ? { abort_reason: "operator_took_over", aborted_by: h.owner && h.owner.label } : h;
      BS.toast(`Your trial: ${TrialOwner.abortText(why)}`, "bad");
    }
    $("state-banner").textContent = h.state === "aborted" ? `${TrialOwner.abortText(h)} · ${h.trial_id}` : `${STATES[h.state] || h.state} · ${h.trial_id}`;
    $("state-banner").className = `state-banner s-${h.state}`;
    $("timer").textContent = h.state === "countdown" && h.countdown_remaining_s !== null ? Math.ceil(h.countdown_remaining_s) : h.hold_remaining_s !== null ? `${BS.num(h.hold_remaining_s, 1)} s` : "–";
    view.target = h.target || null;
    view.wobble = h.wobble || null;  // a wobble trial: the level (level.js)
  }
  function onResult(r) {
    const s = run.steps[run.index];
    if (!run.armed || !s || r.trial_id !== s.trial.id || r.athlete_uid !== A.uid) return;
    // a trial the station could not save is not a done step: say so, and offer the repeat
    s.result = r; s.status = r.saved === false ? (r.spooled ? "spooled" : "unsaved") : "done"; run.armed = false;
    renderSteps();
  }
  LiveStream.pill($("conn"));
  LiveStream.on("frames", onFrames);
  LiveStream.on("trial_result", (m) => onResult(m.result));
  SimPanel.show(true);

  // -- targets -------------------------------------------------------------------------------
  for (const [key, s] of Object.entries(S.series)) $("t-condition").append(BS.h(`<option value="${BS.esc(key)}">${BS.esc(s.label)}</option>`));
  const due = new Date(Date.now() + 35 * 86400e3);
  $("t-due").value = due.toISOString().slice(0, 10);
  function hint() {
    const key = $("t-condition").value, m = $("t-measure").value;
    const cond = key ? S.series[key] : null;
    const series = cond?.measures[m];
    const base = cond?.baseline?.values?.[m];
    const better = m === "score" || m === "time_to_failure_s" ? "higher is better" : cond?.charts.find((c) => c.key === m)?.hint;
    $("t-hint").textContent = series && series.y.length
      ? `Latest in this condition: ${BS.num(series.y[series.y.length - 1])}${base !== undefined && base !== null ? `; ${BS.baselineText(cond.baseline)}: ${BS.num(base)}` : ""}.${better ? ` For this measure ${better}.` : ""} A target on the wrong side of the baseline is refused.`
      : "Pick a condition to see the athlete's current value.";
  }
  $("t-condition").addEventListener("input", hint); $("t-measure").addEventListener("input", hint); hint();
  function renderTargets(list) {
    const box = $("t-list");
    box.replaceChildren();
    if (!list.length) box.append(BS.h('<p class="empty">No targets yet.</p>'));
    for (const t of list) {
      const pct = t.fraction === null ? null : Math.round(100 * t.fraction);
      const where = t.condition_label || (t.applies_to ? `any condition (now ${t.applies_to})` : "any condition");
      const row = BS.h(`<div class="target"><div class="row"><b>${BS.esc(t.label)} ${BS.esc(t.direction)} ${BS.num(t.value)} ${BS.esc(t.unit)}</b><span class="muted small">due ${BS.date(t.due_date)}${pct !== null ? ` · ${pct}% of the way` : ""}</span><span class="spacer"></span></div>
        <div class="muted small t-condition">${BS.esc(where)}${t.notes ? ` · ${BS.esc(t.notes)}` : ""}</div>
        ${t.problem ? `<div class="problem">${BS.esc(t.problem)}</div>` : ""}</div>`);
      const del = BS.h('<button class="btn btn-ghost btn-small">Delete</button>');
      del.addEventListener("click", async () => {
        try { await BS.api("DELETE", `/api/targets/${encodeURIComponent(t.uid)}`); await reloadTargets(); } catch (e) { BS.toast(e.message, "bad"); }
      });
      row.querySelector(".row").append(del);
      box.append(row);
    }
  }
  async function reloadTargets() {
    const body = await BS.api("GET", `/api/athletes/${encodeURIComponent(A.uid)}/targets`);
    renderTargets(body.targets);
  }
  // A refused target (e.g. on the wrong side of the baseline) says why next to the form;
  // a saved one clears the value and the notes, which belong to that target only.
  $("t-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { measure: $("t-measure").value, value: Number($("t-value").value), due_date: $("t-due").value, condition: $("t-condition").value || null };
    if ($("t-notes").value) body.notes = $("t-notes").value;
    $("t-error").hidden = true;
    try {
      await BS.api("POST", `/api/athletes/${encodeURIComponent(A.uid)}/targets`, body);
      BS.toast("Target added.", "ok");
      $("t-value").value = ""; $("t-notes").value = "";
      await reloadTargets();
    } catch (e) {
      $("t-error").textContent = `Target not set: ${e.message}`;
      $("t-error").hidden = false;
    }
  });
  renderTargets(S.targets);
})();
