// The wobble board page: the station's boards, the active one, and the guided set-up (level
// point, rim checks, re-level, the residual report). Every call returns the whole state
// (/api/wobble...), so the page redraws from one shape; a refusal (409) shows its reason under
// the step that was tried. The live level (level.js) turns the live COP into tilt with the
// board's level point: the set-up's once recorded (or being recorded), else the centre.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  let st = BS.data;
  let busy = false;
  const gauge = new Level.Gauge($("wb-level"));
  const SIDE_LABEL = { front: "Front rim", back: "Back rim", left: "Left rim", right: "Right rim" };

  function msg(stepId, text, kind) {
    const box = $(stepId).querySelector("[data-msg]");
    box.className = text ? (kind === "ok" ? "wb-ok" : "wb-err") : "";
    box.textContent = text || "";
  }
  function active() { return st.boards.find((b) => b.name === st.active); }
  function levelPoint() {
    const s = st.session;
    if (s && s.board === st.active && s.level) return s.level.mean_mm;
    return st.setup.level_mm;
  }

  function renderFacts(b) {
    const rows = [
      ["Kind", b.kind === "rocker" ? `rocker, rocks ${b.cylinder_axis === "ap" ? "left–right" : "front–back"}` : "dome"],
      ["Dome radius", `${BS.num(b.dome_radius_mm, 0)} mm (${BS.num(b.mm_per_deg, 2)} mm of COP per degree)`],
      ["Deck", b.kind === "rocker" ? `${BS.num(b.deck_length_mm, 0)} × ${BS.num(b.deck_width_mm, 0)} mm` : `${BS.num(b.deck_diameter_mm, 0)} mm across`],
      ["Rim", `${BS.num(b.rim_height_mm, 0)} mm up; touches at ${BS.num(b.max_tilt_deg, 1)}°`],
      ["Mass", `${BS.num(b.mass_kg, 1)} kg`],
      ["Set-up", b.set_up ? `level point (${levelPoint().map((v) => BS.num(v, 1)).join(", ")}) mm` : "not yet: the level point is taken as the board centre"],
    ];
    if (b.description) rows.unshift(["", b.description]);
    $("wb-facts").innerHTML = rows.map(([k, v]) => `<tr><th>${BS.esc(k)}</th><td>${BS.esc(v)}</td></tr>`).join("");
  }

  function renderReport(r) {
    if (!r) { $("wb-report").innerHTML = ""; return; }
    const rows = Object.values(r.rim_checks || {}).map((c) =>
      `<tr><td>${BS.esc(c.side)}</td><td>${BS.num(c.tilt_deg, 1)}°</td><td><b>${c.residual_deg > 0 ? "+" : ""}${BS.num(c.residual_deg, 1)}°</b></td><td>${c.rim_seen ? "" : "rim not seen"}</td></tr>`).join("");
    $("wb-report").innerHTML =
      `<p class="${r.ok ? "wb-ok" : "wb-err"}">${!r.ok ? "Look at the findings below." : r.rims_checked ? "The board checks out." : "Level point kept."}</p>` +
      (rows ? `<table class="wb-board small"><tr><th>Rim</th><th>Tilt</th><th>Residual</th><th></th></tr>${rows}</table>` +
        `<p class="small">Profile maximum ${BS.num(r.max_tilt_deg, 1)}°; effective dome radius ${BS.num(r.effective_radius_mm, 0)} mm.</p>` : "") +
      (r.relevel_deg !== undefined ? `<p class="small">Level point found again ${BS.num(r.relevel_deg, 2)}° from the first.</p>` : "") +
      `<ul class="small">${(r.findings || []).map((f) => `<li>${BS.esc(f)}</li>`).join("")}</ul>`;
  }

  function render() {
    const b = active();
    $("wb-select").innerHTML = st.boards.map((x) => `<option value="${BS.esc(x.name)}"${x.name === st.active ? " selected" : ""}>${BS.esc(x.name)}${x.preset ? "" : " (this station's)"}</option>`).join("");
    $("wb-active-line").textContent = `Wobble trials use "${st.active}"${b.set_up ? ", set up on this platform." : " with its level point at the board centre until it is set up here."}`;
    renderFacts(b);
    const s = st.session && st.session.board === st.active ? st.session : null;
    const done = { level: !!(s && s.level), rim: !!(s && Object.keys(s.rims).length), relevel: !!(s && s.relevel), save: !!(s && s.report) };
    const current = !done.level ? "level" : !done.save ? "save" : null;
    for (const k of ["level", "rim", "relevel", "save"]) {
      $(`step-${k}`).classList.toggle("done", done[k]);
      $(`step-${k}`).classList.toggle("current", current === k);
    }
    $("wb-sides").innerHTML = st.check_sides.map((side) => {
      const c = s && s.rims[side];
      return `<button class="btn btn-ghost" type="button" data-side="${side}">${SIDE_LABEL[side]}${c ? ` · ${c.residual_deg > 0 ? "+" : ""}${BS.num(c.residual_deg, 1)}°` : ""}</button>`;
    }).join("");
    $("wb-sides").querySelectorAll("[data-side]").forEach((btn) => btn.addEventListener("click", () => step("step-rim", "/api/wobble/setup/rim", { side: btn.dataset.side })));
    ["btn-relevel", "btn-save"].forEach((id) => { $(id).disabled = busy || !done.level; });
    $("btn-level").disabled = busy;
    $("wb-sides").querySelectorAll("button").forEach((x) => { x.disabled = busy || !done.level; });
    renderReport(s ? s.report : (st.setups[st.active] || {}).report);
    const faults = st.session && st.session.report ? st.session.report.fault_signs : ((st.setups[st.active] || {}).report || {}).fault_signs;
    $("wb-faults").innerHTML = Object.entries(faults || FAULTS).map(([k, v]) => `<dt>${BS.esc(FAULT_NAMES[k] || k)}</dt><dd>${BS.esc(v)}</dd>`).join("");
    gauge.set({ ...gauge.w, max_tilt_deg: b.max_tilt_deg });
  }
  const FAULT_NAMES = { slipping: "A slipping dome", soft: "A soft dome", non_spherical: "A dome that is not a sphere", level_off: "A level point taken off level" };
  // shown before the first report (the server sends the same text with every report)
  const FAULTS = {
    slipping: "the level point found again after the rim checks is not where it was",
    soft: "every rim check reads short by about the same",
    non_spherical: "the residuals differ by direction",
    level_off: "opposite sides read opposite residuals",
  };

  async function call(method, url, body) { st = await BS.api(method, url, body); render(); return st; }

  async function ensureSession() {
    if (!st.session || st.session.board !== st.active) await call("POST", "/api/wobble/setup", { board: st.active });
  }

  async function step(stepId, url, body) {
    if (busy) return;
    busy = true; render(); msg(stepId, "Measuring… keep going as asked.", "ok");
    try {
      await ensureSession();
      await call("POST", url, body);
      msg(stepId, "Recorded.", "ok");
    } catch (e) { msg(stepId, e.message); }
    busy = false; render();
  }

  $("btn-level").addEventListener("click", () => step("step-level", "/api/wobble/setup/level", {}));
  $("btn-relevel").addEventListener("click", () => step("step-relevel", "/api/wobble/setup/level", { again: true }));
  $("btn-save").addEventListener("click", async () => {
    try { await call("POST", "/api/wobble/setup/save", {}); msg("step-save", "Kept: wobble trials on this board use this level point.", "ok"); } catch (e) { msg("step-save", e.message); }
  });
  $("wb-select").addEventListener("change", async (e) => {
    try { await call("POST", "/api/wobble/active", { name: e.target.value }); BS.toast(`Wobble trials now use "${st.active}"`); } catch (err) { BS.toast(err.message, "bad"); render(); }
  });
  $("f-kind").addEventListener("change", () => {
    const rocker = $("f-kind").value === "rocker";
    document.querySelectorAll("[data-rocker]").forEach((x) => { x.hidden = !rocker; });
    $("f-deck_diameter_mm").closest("label").hidden = rocker;
  });
  $("btn-add").addEventListener("click", async () => {
    const rocker = $("f-kind").value === "rocker";
    const body = { name: $("f-name").value.trim(), kind: $("f-kind").value };
    const nums = ["dome_radius_mm", "rim_height_mm", "mass_kg", ...(rocker ? ["deck_length_mm", "deck_width_mm"] : ["deck_diameter_mm"])];
    for (const k of nums) { const v = $(`f-${k}`).value; if (v !== "") body[k] = Number(v); }
    if (rocker) body.cylinder_axis = $("f-cylinder_axis").value;
    const box = $("add-msg");
    try {
      await call("POST", "/api/wobble/boards", body);
      await call("POST", "/api/wobble/active", { name: body.name });
      box.className = "wb-ok"; box.textContent = `Added "${body.name}"; wobble trials use it now. Set it up below.`;
    } catch (e) { box.className = "wb-err"; box.textContent = e.message; }
  });

  SimPanel.show(!!st.sim);  // the simulated athlete (demo board): put the board on, step on
  LiveStream.pill($("live"));
  LiveStream.on("frames", (m) => {
    const b = active();
    gauge.set({ tilt_deg: m.cop_mm && m.force_n > 100 ? Level.tiltFrom(m.cop_mm, levelPoint(), b.mm_per_deg) : null, max_tilt_deg: b.max_tilt_deg });
  });
  render();
})();
