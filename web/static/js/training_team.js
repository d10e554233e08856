// The coach dashboard's training adherence: on each athlete's card, sessions this week
// against the plan and the day last trained (GET /api/training/adherence). The cards are
// coach.js's; this adds one line to each, again whenever coach.js redraws them.
"use strict";
(() => {
  const team = document.getElementById("team");
  if (!team) return;
  let byUid = null;
  function decorate() {
    if (!byUid) return;
    for (const card of team.querySelectorAll(".card[data-uid]")) {
      if (card.querySelector(".trained")) continue;
      const a = byUid.get(card.dataset.uid);
      if (!a) continue;
      const [low, high] = a.planned_per_week;
      const below = a.this_week < low;
      const last = a.last_trained ? `last trained ${BS.date(a.last_trained)}` : "not trained yet";
      card.append(BS.h(`<span class="trained ${below ? "muted" : ""}" data-this-week="${a.this_week}">Training: <b>${a.this_week}</b> of ${low}–${high} this week · ${BS.esc(last)}</span>`));
    }
  }
  new MutationObserver(decorate).observe(team, { childList: true });
  BS.api("GET", "/api/training/adherence").then((body) => {
    byUid = new Map(body.athletes.map((a) => [a.uid, a]));
    decorate();
  }).catch(() => { /* a role without view_adherence: no line */ });
})();
