// The station's facts (g, the cells' names and positions, stance, measure and failure labels),
// rendered once by the server into <script id="station-facts"> (station/web/views/frontend_facts.py).
// The scripts read them here instead of keeping copies that drift from the Python values.
"use strict";
const Facts = (() => {
  const el = document.getElementById("station-facts");
  if (!el) throw new Error("no #station-facts on this page: render it with base.html or include _station_facts.html");
  const facts = JSON.parse(el.textContent);
  // Newtons to kilograms on the board (null stays null: nobody on it, or not calibrated).
  const kg = (forceN) => (forceN === null || forceN === undefined ? null : forceN / facts.g_m_s2);
  const stanceLabel = (stance) => facts.stances[stance]?.label ?? stance;
  const failureLabel = (reason) => facts.failure_reasons[reason] ?? reason;
  return Object.freeze({ ...facts, kg, stanceLabel, failureLabel });
})();
