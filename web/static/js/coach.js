// Coach dashboard: every athlete at a glance (last test, latest score and trend in one chosen
// condition, L/R flag, missed testing), sorted and filtered by group. Data embedded by the
// server (= GET /api/team); another condition is another page (?condition=).
"use strict";
(() => {
  const D = BS.data;
  const $ = (id) => document.getElementById(id);
  for (const t of D.teams) $("f-team").append(BS.h(`<option>${BS.esc(t)}</option>`));
  const saved = JSON.parse(localStorage.getItem("coach-filters") || "{}");
  for (const k of ["f-team", "f-sort", "f-show"]) if (saved[k] !== undefined) $(k).value = saved[k];
  $("legend").textContent = `“Missed” = no test for more than ${D.missed_days} days. L/R flag = limb symmetry index of COP velocity below ${D.lsi_threshold_pct}% in a left/right pair (≈ an absolute symmetry index of 16 %, Nolff et al. 2023), and only when the difference is beyond measurement noise. Score, sparkline and verdict are of the condition shown: the latest score against the baseline is a “real improvement” or “real decline” only beyond the measurement noise (else “within measurement noise”); the trend over the last six tests is in the tooltip.`;

  // -- the condition every card shows (the battery's key condition unless the coach picks one)
  const cond = D.condition;
  const picker = $("f-condition");
  const choices = D.conditions.some((c) => c.key === cond.key) || !cond.key ? D.conditions : [{ key: cond.key, label: cond.label, n: 0 }, ...D.conditions];
  for (const c of choices) picker.append(BS.h(`<option value="${BS.esc(c.key)}">${BS.esc(c.label)}${c.n ? ` (${c.n})` : ""}</option>`));
  if (cond.key) picker.value = cond.key;
  $("condition-note").textContent = cond.key ? `Cards show ${cond.label}${cond.why === "chosen" ? "" : ` (${cond.why})`}.` : "No trials yet.";
  picker.addEventListener("change", () => {
    localStorage.setItem("coach-condition", picker.value);
    const params = new URLSearchParams(location.search);
    params.set("condition", picker.value);
    location.search = params.toString();
  });
  const remembered = localStorage.getItem("coach-condition");
  const params = new URLSearchParams(location.search);
  if (!params.has("condition") && remembered && remembered !== cond.key && D.conditions.some((c) => c.key === remembered)) {
    params.set("condition", remembered);
    location.replace(`${location.pathname}?${params}`);
  }

  // a decline counts only when real (the score's change since the baseline beyond the noise)
  function attention(a) { return (a.missed ? 2 : 0) + (a.asymmetry ? 1 : 0) + (a.decline ? 1 : 0); }
  const sorters = {
    attention: (x, y) => attention(y) - attention(x) || x.name.localeCompare(y.name),
    name: (x, y) => x.name.localeCompare(y.name),
    last: (x, y) => (y.last_test || "").localeCompare(x.last_test || ""),
    score: (x, y) => (y.latest_score ?? -1) - (x.latest_score ?? -1),
    trend: (x, y) => (y.trend_points_per_test ?? -99) - (x.trend_points_per_test ?? -99),
  };
  // The score since the baseline in the station's words (no raw arrow: a slope of a few
  // noisy scores is no decline); the slope stays in the tooltip.
  function trendText(a) {
    const t = a.trend_points_per_test;
    const slope = t === null ? "" : `trend ${t > 0 ? "+" : t < 0 ? "−" : ""}${BS.num(Math.abs(t), 1)} points per test`;
    const v = a.score_vs_baseline;
    if (!v || !v.verdict_text) return `<span class="muted small verdict" title="${BS.esc(slope)}">${a.latest_score === null ? "–" : "no baseline to compare"}</span>`;
    return `<span class="small" title="${BS.esc(`score ${v.text} since the baseline${slope ? `; ${slope}` : ""}`)}">${BS.verdictBadge(v, v.verdict_text)}</span>`;
  }
  function render() {
    const q = $("f-q").value.trim().toLowerCase(), team = $("f-team").value, showing = $("f-show").value;
    localStorage.setItem("coach-filters", JSON.stringify({ "f-team": team, "f-sort": $("f-sort").value, "f-show": showing }));
    let rows = D.athletes.filter((a) => (!q || a.name.toLowerCase().includes(q)) && (!team || a.team === team));
    if (showing === "missed") rows = rows.filter((a) => a.missed);
    if (showing === "asym") rows = rows.filter((a) => a.asymmetry);
    if (showing === "decline") rows = rows.filter((a) => a.decline);
    rows.sort(sorters[$("f-sort").value]);
    const box = $("team");
    box.replaceChildren();
    if (!rows.length) box.append(BS.h('<p class="empty">Nobody matches.</p>'));
    for (const a of rows) {
      const flags = [];
      if (a.missed) flags.push(`<span class="pill pill-wait">${a.days_since_last_test === null ? "never tested" : `missed · ${a.days_since_last_test} d`}</span>`);
      if (a.decline) flags.push('<span class="pill pill-bad">real decline</span>');
      if (a.asymmetry) flags.push(`<span class="pill pill-bad">L/R ${BS.num(a.velocity_lsi_pct, 0)}%</span>`);
      const other = a.other_leg && a.other_leg.score !== null ? `<span class="other ${a.other_leg.side === "R" ? "leg-right" : "leg-left"}" title="the other leg's latest score in this condition">${a.other_leg.side} ${BS.num(a.other_leg.score, 0)}</span>` : "";
      const inCondition = a.latest_in_condition ? `${BS.esc(cond.label)} ${BS.date(a.latest_in_condition)}` : `not tested: ${BS.esc(cond.label || "")}`;
      const badges = [a.archived ? '<span class="pill pill-wait">archived</span>' : "", a.demo ? '<span class="pill pill-info">demo</span>' : ""].join("");
      box.append(BS.h(`<a class="card${a.archived ? " archived" : ""}" href="/athletes/${encodeURIComponent(a.uid)}" data-uid="${BS.esc(a.uid)}">
        <span class="name">${BS.esc(a.name)}${badges ? `<span class="badge-row">${badges}</span>` : ""}</span>
        <span class="score ${BS.scoreClass(a.latest_score)}" title="latest score: ${BS.esc(cond.label || "")}">${BS.num(a.latest_score, 0)}</span>
        <span class="sub">${BS.esc(a.team || "")}${a.team ? " · " : ""}${a.last_test ? `last test ${BS.date(a.last_test)}` : "no test yet"}</span>
        <span class="cond">${inCondition}</span>
        <span class="flags">${Charts.spark(a.spark)} ${trendText(a)} ${other} ${flags.join(" ")}</span></a>`));
    }
    const all = D.athletes.filter((a) => !team || a.team === team);
    $("summary").replaceChildren(
      BS.h(`<div class="stat"><b>${all.length}</b><span>athletes</span></div>`),
      BS.h(`<div class="stat"><b>${all.filter((a) => a.missed).length}</b><span>missed testing</span></div>`),
      BS.h(`<div class="stat"><b>${all.filter((a) => a.asymmetry).length}</b><span>L/R flags</span></div>`),
      BS.h(`<div class="stat"><b>${all.filter((a) => a.decline).length}</b><span>real declines</span></div>`),
    );
  }
  function exportHref() {
    const link = $("team-export");
    if (link) link.href = `/api/team.csv${$("f-team").value ? `?team=${encodeURIComponent($("f-team").value)}` : ""}`;
  }
  for (const id of ["f-q", "f-team", "f-sort", "f-show"]) $(id).addEventListener("input", render);
  // archived athletes are the server's to add (?archived=1, = GET /api/team?archived=1)
  $("f-archived")?.addEventListener("change", (ev) => {
    const shown = new URLSearchParams(location.search);
    if (ev.target.checked) shown.set("archived", "1"); else shown.delete("archived");
    location.search = shown.toString();
  });
  $("f-team").addEventListener("input", exportHref);
  exportHref();
  const form = $("a-form");
  if (form) form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { name: $("a-name").value.trim(), team: $("a-team").value.trim() || null, dominant_leg: $("a-leg").value || null };
    if ($("a-year").value) body.birth_year = Number($("a-year").value);
    // the optional profile norms use (age group, sex); empty fields are left out
    if ($("a-sex").value) body.sex = $("a-sex").value;
    if ($("a-height").value) body.height_cm = Number($("a-height").value);
    if ($("a-mass").value) body.body_mass_kg = Number($("a-mass").value);
    if ($("a-sport").value.trim()) body.sport = $("a-sport").value.trim();
    if ($("a-level").value.trim()) body.level = $("a-level").value.trim();
    try {
      const a = await BS.api("POST", "/api/athletes", body);
      BS.toast(`${a.name} added.`, "ok");
      setTimeout(() => location.reload(), 600);
    } catch (e) { BS.toast(e.message, "bad"); }
  });
  render();
})();
