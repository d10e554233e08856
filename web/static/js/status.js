// Station status: acquisition health from /api/health, per-cell counts and noise measured from
// the live stream, and the guided calibration check.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const WINDOW_S = 2.0;
  const buf = [];  // [t, counts[4]]
  let health = BS.data.health, last = null, massSince = null, stillSince = null;

  function std(values) {
    const m = values.reduce((a, b) => a + b, 0) / values.length;
    return Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / values.length);
  }
  function noise() {
    if (buf.length < 20) return [null, null, null, null];
    return [0, 1, 2, 3].map((i) => std(buf.map((f) => f[1][i])));
  }
  function renderCells() {
    const n = noise();
    const fails = (health.acquisition && health.acquisition.failing_cells) || {};
    const counts = buf.length ? buf[buf.length - 1][1] : [null, null, null, null];
    const forces = last ? last.cell_forces_n : [null, null, null, null];
    $("cells").querySelector("tbody").replaceChildren(...Facts.cells.map(({ label }, i) => {
      const bad = fails[String(i)] !== undefined;
      const noisy = n[i] !== null && n[i] > 200;
      const state = bad ? `<span class="pill pill-bad">not answering ${fails[String(i)]} s</span>` : noisy ? '<span class="pill pill-wait">noisy / loaded</span>' : '<span class="pill pill-ok">ok</span>';
      return BS.h(`<tr><td>${label}</td><td>${counts[i] ?? "–"}</td><td>${n[i] === null ? "–" : BS.num(n[i], 0)}</td><td>${forces[i] === null ? "–" : BS.num(forces[i]) + " N"}</td><td>${state}</td></tr>`);
    }));
  }
  // When the four HX711 convert (docs/cell-timing.md): since acquisition started.
  function timingRows(t) {
    if (!t) return [];
    if (!t.frames_timed) return [["Cell timing", "not known on this board: the cells are taken as simultaneous"]];
    const rates = t.rates_hz.some((r) => r !== null) ? t.rates_hz.map((r) => r === null ? "?" : BS.num(r, 2)).join(" / ") + " Hz" : "not measured";
    const beat = t.beat_period_s ? `; offsets walk through a whole period every ${BS.num(t.beat_period_s, 2)} s` : "";
    return [
      ["Chip rates", rates],
      ["Skew between cells", `mean ${BS.num(t.skew_mean_ms, 2)} ms, max ${BS.num(t.skew_max_ms, 2)} ms over ${t.frames_timed} frames${beat}`],
      ["Clocks", t.lockstep ? "lockstep: one shared clock" : "each chip its own: the cells are aligned in software"],
    ];
  }
  function renderHealth() {
    const a = health.acquisition || {};
    $("s-state").textContent = a.state ? a.state.replace(/_/g, " ") : "–";
    $("s-state").closest(".stat").classList.toggle("stat-bad", a.state === "not_answering" || a.state === "restarting");
    $("s-rate").textContent = BS.num(health.achieved_rate_hz, 1);
    $("s-disc").textContent = health.frames_discarded ?? "–";
    $("s-disk").textContent = health.disk_free_mb === undefined ? "–" : health.disk_free_mb > 2000 ? `${BS.num(health.disk_free_mb / 1000, 1)} GB` : `${BS.num(health.disk_free_mb, 0)} MB`;
    const g = a.granted || {};
    const rows = [
      ["Version", health.version], ["Board", health.board], ["Uptime", `${BS.num(health.uptime_s / 3600, 1)} h`],
      ["Frames total", a.frames_total], ["Longest gap", a.max_gap_ms !== undefined ? `${a.max_gap_ms} ms` : "–"],
      ["Ring overruns", a.ring_lost], ["Discarded by check", a.discarded_by_check ? Object.entries(a.discarded_by_check).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`).join(", ") || "none" : "–"],
      ["Cell failures", a.cell_failures ? a.cell_failures.join(" / ") : "–"],
      ["Real-time", Object.entries(g).filter(([, v]) => v).map(([k]) => k.replace("_", " ")).join(", ") || "none granted"],
      ...timingRows(a.cell_timing),
    ];
    if (a.board_error) rows.unshift(["Board error", a.board_error]);
    if (a.outage_since) {
      rows.unshift(["Board outage", `${a.problem || "not answering"}, since ${BS.date(a.outage_since)} (${BS.num(a.outage_s, 0)} s); ` +
        `restarts ${a.restarts ?? 0}, last exit code ${a.last_exit_code ?? "–"}` +
        (a.next_restart_in_s ? `, next try in ${BS.num(a.next_restart_in_s, 0)} s` : "")]);
    } else if (a.restarts) {
      rows.push(["Acquisition restarts", `${a.restarts} (last exit code ${a.last_exit_code ?? "–"})`]);
    }
    const s = health.saving || {};
    if (s.spooled_trials) {
      rows.unshift(["Trials not saved yet", `${s.spooled_trials}, kept on disk since ${BS.date(s.oldest_spooled_at)}; ` +
        `the station retries${s.next_retry_in_s ? ` in ${BS.num(s.next_retry_in_s, 0)} s` : ""}` + (s.last_error ? ` (last error: ${s.last_error})` : "")]);
    }
    if (s.disk_warning) rows.unshift(["Disk", s.disk_warning]);
    $("kv").replaceChildren(...rows.flatMap(([k, v]) => [BS.h(`<dt>${BS.esc(k)}</dt>`), BS.h(`<dd>${BS.esc(v ?? "–")}</dd>`)]));
    const c = health.calibration || {};
    const warn = (c.warnings || []).map((w) => `<li>${BS.esc(typeof w === "string" ? w : w.message || JSON.stringify(w))}</li>`).join("");
    $("cal-status").innerHTML = health.calibrated
      ? `<p><span class="pill pill-ok">calibrated</span> board <b>${BS.esc(c.board || "")}</b>, made ${BS.date(c.created)}</p>${warn ? `<ul class="notice">${warn}</ul>` : ""}`
      : `<p><span class="pill pill-bad">not calibrated</span> ${BS.esc(c.problem || c.status || "")}: no force or centre of pressure; tests cannot be recorded.</p>`;
  }
  function step(name, ok, msg) {
    const li = document.querySelector(`#cal-steps [data-step="${name}"]`);
    li.classList.toggle("done", !!ok);
    li.querySelector("[data-msg]").textContent = msg || "";
  }
  function renderSteps() {
    if (!last) return;
    const n = noise();
    const f = last.force_n;
    const now = performance.now();
    const empty = health.calibrated ? f !== null && f < 20 : n.every((v) => v !== null && v < 200);
    step("empty", empty, health.calibrated ? `total ${BS.num(f)} N` : "uncalibrated: judged by noise only");
    const still = empty && n.every((v) => v !== null && v < 200);
    stillSince = still ? stillSince ?? now : null;
    step("still", stillSince && now - stillSince > 3000, n[0] === null ? "" : `noise ${n.map((v) => BS.num(v, 0)).join(" / ")} counts`);
    const loaded = f !== null && f > 50;
    massSince = loaded ? massSince ?? now : null;
    step("mass", massSince && now - massSince > 2000, loaded ? `${BS.num(Facts.kg(f), 1)} kg on the board` : "");
    const cop = last.cop_mm;
    const centred = loaded && cop && Math.hypot(cop[0], cop[1]) <= 10;
    step("centre", centred, cop ? `COP ${BS.num(cop[0])}, ${BS.num(cop[1])} mm` : health.calibrated ? "" : "needs a calibration");
    step("fit", health.calibrated, health.calibrated ? "a calibration is in use" : "");
  }
  LiveStream.pill($("conn"));
  LiveStream.on("frames", (m) => {
    last = m;
    m.frames.t.forEach((t, i) => buf.push([t, m.frames.counts[i]]));
    while (buf.length && buf[buf.length - 1][0] - buf[0][0] > WINDOW_S) buf.shift();
  });
  setInterval(() => { renderCells(); renderSteps(); }, 500);
  async function poll() {
    try { health = await BS.api("GET", "/api/health"); renderHealth(); } catch (e) { /* shown by the stream pill */ }
    setTimeout(poll, 2000);
  }
  renderHealth();
  poll();
})();
