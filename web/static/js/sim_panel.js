// The simulated athlete's panel (web/templates/_sim_panel.html, rendered on simulated boards
// only): each button posts its action and parameters (data-sim, data-params) to
// /api/sim/perform (the server gives the athlete the running trial's surface and eyes and
// says so: #sim-condition). The page says when the panel shows: SimPanel.show(true / false).
"use strict";
const SimPanel = (() => {
  const panel = document.getElementById("sim-panel");
  if (panel) {
    panel.querySelectorAll("[data-sim]").forEach((b) => b.addEventListener("click", async () => {
      const params = b.dataset.params ? JSON.parse(b.dataset.params) : {};
      try {
        const done = await BS.api("POST", "/api/sim/perform", { action: b.dataset.sim, params });
        const c = done.condition;
        const line = document.getElementById("sim-condition");
        if (line) line.textContent = c ? `Doing it on ${c.surface}, eyes ${c.eyes} (the trial's condition).` : "";
      } catch (e) { BS.toast(e.message, "bad"); }
    }));
  }
  return {
    present: panel !== null,
    show(visible) { if (panel) panel.hidden = !visible; },
  };
})();
