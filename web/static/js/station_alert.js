// The board-outage banner on every page that streams: "the board is not answering" while the
// station restarts its acquisition process, gone when frames flow again. Driven by the live
// stream's `acquisition` messages (published on each change; during an outage no `frames`
// message arrives), seeded once from /api/health so a page opened mid-outage says so too.
"use strict";
(() => {
  if (typeof LiveStream === "undefined") return;  // pages without a live stream show no banner
  const el = document.getElementById("station-alert");
  if (!el) return;
  const OUTAGE = new Set(["not_answering", "restarting"]);

  function show(a) {
    if (!a || !OUTAGE.has(a.state)) { el.hidden = true; return; }
    const restart = a.restarts ? ` (restart ${a.restarts}` + (a.next_restart_in_s ? `, next try in ${Math.ceil(a.next_restart_in_s)} s)` : ")") : "";
    el.textContent = a.state === "restarting"
      ? `The board is coming back: the station restarted its reader${restart}. Trials can start again in a moment.`
      : `The board is not answering: the station is restarting its reader${restart}. Trials cannot start until it is back; a running trial was stopped.`;
    el.hidden = false;
  }
  LiveStream.on("acquisition", show);
  LiveStream.on("frames", () => { if (!el.hidden) el.hidden = true; });
  BS.api("GET", "/api/health").then((h) => show(h.acquisition || (h.status ? { state: h.status } : null))).catch(() => {});
})();
