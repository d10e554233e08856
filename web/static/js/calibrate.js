// Guided calibration: the CLI's steps (tare, masses on marks, fit, save, verify) as buttons.
// Every call returns the whole state (/api/calibration/...), so the page redraws from one shape;
// a refusal (409) shows its reason under the step that was tried.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  let st = BS.data;
  let busy = false;

  function msg(stepId, text, kind) {
    const box = $(stepId).querySelector("[data-msg]");
    box.className = text ? (kind === "ok" ? "cal-ok" : "cal-err") : "";
    box.textContent = text || "";
  }
  function clearMsgs() { ["step-tare", "step-place", "step-fit", "step-save", "step-verify"].forEach((s) => msg(s, "")); }
  const same = (a, b) => Math.abs(a - b) < 1e-6;
  function nextPlanned(s) {
    const done = (s && s.placements) || [];
    return st.plan.find((p) => !done.some((d) => same(d.mass_kg, p.mass_kg) && same(d.x_mm, p.x_mm) && same(d.y_mm, p.y_mm)));
  }
  function setInputs(prefix, p) {
    if (!p) return;
    $(`${prefix}-mass`).value = p.mass_kg; $(`${prefix}-x`).value = p.x_mm; $(`${prefix}-y`).value = p.y_mm;
  }
  function readInputs(prefix) {
    return { mass_kg: Number($(`${prefix}-mass`).value), x_mm: Number($(`${prefix}-x`).value), y_mm: Number($(`${prefix}-y`).value) };
  }

  function render() {
    const s = st.session;
    const c = st.calibration || {};
    $("cal-current").textContent = c.board
      ? `In use: board "${c.board}", calibrated ${BS.date(c.created)}.`
      : `The station is not calibrated (${c.problem || c.status || "no file"}).`;
    $("cal-who").textContent = s ? `Calibration in progress, started by ${s.started_by || "?"} at ${BS.dateTime(s.started_at)}.` : "";
    const step = s ? s.next_step : "tare";
    const order = ["tare", "placements", "save", "verify", "done"];
    const at = order.indexOf(step);
    const mark = (id, done, current) => { $(id).classList.toggle("done", done); $(id).classList.toggle("current", current); };
    mark("step-tare", !!(s && s.tare), step === "tare");
    mark("step-place", at > 1 || !!(s && s.placements.length), step === "placements");
    mark("step-fit", !!(s && s.fit), step === "placements" && !!(s && s.placements.length));
    mark("step-save", !!(s && s.saved), step === "save");
    mark("step-verify", !!(s && s.verification), step === "verify");

    // 2: placements
    const tared = !!(s && s.tare);
    const next = nextPlanned(s);
    $("place-say").textContent = !tared ? "Tare first." : next
      ? `Place ${next.mass_kg} kg at ${next.where}, hands off.`
      : "Every planned placement is done: remove the mass and fit (or add more).";
    if (tared && next && !$("step-place").dataset.edited) setInputs("p", next);
    const rows = tared ? s.placements : [];
    $("place-progress").textContent = tared ? `${rows.length} measured; the default plan has ${st.plan.length}.` : "";
    $("placements").querySelector("tbody").replaceChildren(...rows.map((p) => BS.h(
      `<tr title="${p.n_frames} frames averaged"><td>${p.index + 1}</td><td class="nw">${BS.num(p.mass_kg, 1)} kg</td><td class="nw">${BS.num(p.x_mm, 0)}, ${BS.num(p.y_mm, 0)}</td>` +
      `<td><button class="btn btn-small btn-ghost" type="button" data-remove="${p.index}" aria-label="Remove placement ${p.index + 1}">Remove</button></td></tr>`)));

    // 3: fit
    const fit = s && s.fit;
    $("residuals").hidden = !fit;
    $("residuals").querySelector("tbody").replaceChildren(...(fit ? fit.positions : []).map((r) => BS.h(
      `<tr><td>${BS.num(r.mass_kg, 0)} kg at ${BS.num(r.x_mm, 0)}, ${BS.num(r.y_mm, 0)}</td><td class="nw">${r.force_error_n > 0 ? "+" : ""}${BS.num(r.force_error_n, 2)} N</td>` +
      `<td class="nw">${r.force_error_pct > 0 ? "+" : ""}${BS.num(r.force_error_pct, 3)}</td><td class="nw">${BS.num(r.cop_error_mm, 2)} mm</td></tr>`)));
    $("fit-summary").textContent = fit
      ? `Max force error ${BS.num(fit.summary.force_error_pct_max, 3)} %, max COP error ${BS.num(fit.summary.cop_error_mm_max, 2)} mm` +
        ` (${fit.summary.quadratic ? "with" : "without"} non-linearity term, ${fit.summary.n_placements} placements).`
      : "";

    // 4: save
    $("save-path").textContent = st.save_path || "no calibration file configured";
    if (s && s.saved) msg("step-save", s.saved.message, "ok");

    // 5: verify
    const v = s && s.verification;
    if (v) msg("step-verify", verifyText(v), "ok");

    const can = {
      "btn-tare": true,
      "btn-place": tared,
      "btn-fit": tared && s.placements.length > 0,
      "btn-save": !!fit && !!st.save_path,
      // without a calibration in progress the station's own file can be verified
      "btn-verify": s ? !!s.saved : !!st.save_path,
      "btn-cancel": !!s,
    };
    Object.entries(can).forEach(([id, ok]) => { $(id).disabled = busy || !ok; });
    document.querySelectorAll("[data-remove]").forEach((b) => { b.disabled = busy; });
  }
  function verifyText(v) {
    const sign = (x) => (x > 0 ? "+" : "");
    return `Measured ${BS.num(v.measured_mass_kg, 2)} kg at ${BS.num(v.measured_x_mm, 1)}, ${BS.num(v.measured_y_mm, 1)} mm: ` +
      `mass error ${sign(v.mass_error_kg)}${BS.num(v.mass_error_kg, 3)} kg (${sign(v.mass_error_pct)}${BS.num(v.mass_error_pct, 2)} %), ` +
      `position error ${BS.num(v.cop_error_mm, 1)} mm. Stored in the calibration file.`;
  }

  // One action at a time; a measuring step shows a countdown while the board is read.
  async function act(stepId, method, url, body, measuring) {
    if (busy) return;
    busy = true; clearMsgs(); render();
    const btn = document.activeElement;
    const label = btn && btn.tagName === "BUTTON" ? btn.textContent : null;
    let left = 25;
    const tick = measuring ? setInterval(() => { left -= 1; if (btn && left >= 0) btn.textContent = `Measuring… ${BS.num(left / 10, 1)} s, hands off`; }, 100) : null;
    try {
      const answer = await BS.api(method, url, body);
      st = answer;
      if (answer.message && stepId === "step-verify" && !answer.session) msg(stepId, verifyText(answer.verification), "ok");
      return true;
    } catch (e) {
      msg(stepId, e.message, "bad");
      return false;
    } finally {
      if (tick) clearInterval(tick);
      if (btn && label !== null) btn.textContent = label;
      busy = false;
      render();
    }
  }

  $("btn-tare").onclick = () => act("step-tare", "POST", "/api/calibration/tare", {}, true);
  $("btn-place").onclick = async () => {
    const done = await act("step-place", "POST", "/api/calibration/placements", readInputs("p"), true);
    if (done) { delete $("step-place").dataset.edited; render(); msg("step-place", "Measured. Lift the mass off and go on.", "ok"); }
  };
  ["p-mass", "p-x", "p-y"].forEach((id) => $(id).addEventListener("input", () => { $("step-place").dataset.edited = "1"; }));
  $("placements").addEventListener("click", (ev) => {
    const b = ev.target.closest("[data-remove]");
    if (b) act("step-place", "DELETE", `/api/calibration/placements/${b.dataset.remove}`);
  });
  $("btn-fit").onclick = () => act("step-fit", "POST", "/api/calibration/fit", { linear: $("fit-linear").checked });
  $("btn-save").onclick = () => {
    const board = $("save-board").value.trim();
    act("step-save", "POST", "/api/calibration/save", board ? { board } : {});
  };
  $("btn-verify").onclick = () => act("step-verify", "POST", "/api/calibration/verify", readInputs("v"), true);
  $("btn-cancel").onclick = () => {
    if (confirm("Drop this calibration in progress? A saved file stays.")) act("step-tare", "POST", "/api/calibration/cancel", {});
  };

  // Live load and stillness, so the operator sees when the board is ready to be measured.
  const buf = [];
  LiveStream.onStatus((s) => {
    if (s.state === "reconnecting") { $("live").textContent = "reconnecting…"; $("live").className = "pill pill-wait cal-live"; }
  });
  LiveStream.on("frames", (m) => {
    m.frames.t.forEach((t, i) => buf.push([t, m.frames.counts[i]]));
    while (buf.length && buf[buf.length - 1][0] - buf[0][0] > 1.0) buf.shift();
    let moving = false;
    if (buf.length >= 20) {
      for (let c = 0; c < 4; c++) {
        const v = buf.map((f) => f[1][c]);
        const mean = v.reduce((a, b) => a + b, 0) / v.length;
        if (Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length) > 200) moving = true;
      }
    }
    const load = m.force_n === null ? "" : `${BS.num(Facts.kg(m.force_n), 1)} kg · `;
    $("live").textContent = `${load}${moving ? "moving" : "still"}`;
    $("live").className = `pill ${moving ? "pill-wait" : "pill-ok"} cal-live`;
  });

  setInputs("v", st.verify_default);
  render();
})();
