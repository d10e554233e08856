// Physio: pick the athlete and set targets (the battery runs in physio_battery.js).
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
  // The battery and the board panel: physio_battery.js.

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
      ? `Latest in this condition: ${BS.num(series.y[series.y.length - 1])}${base !== undefined && base !== null ? `; ${BS.baselineText(cond.baseline)}: ${BS.num(base)}` : ""}.${better ? ` For this measure ${better}.` : ""} A target on the wrong side of the baseline, or closer to it than the reliable change, is refused.`
      : "Pick a condition to see the athlete's current value.";
  }
  $("t-condition").addEventListener("input", hint); $("t-measure").addEventListener("input", hint); hint();
  function renderTargets(list) {
    const box = $("t-list");
    box.replaceChildren();
    if (!list.length) box.append(BS.h('<p class="empty">No targets yet.</p>'));
    for (const t of list) {
      const pct = t.fraction === null ? null : Math.round(100 * t.fraction);
      const where = t.condition_label || (t.applies_to ? `any condition (measured in ${t.applies_to})` : "any condition");
      const since = t.current !== null && t.baseline !== null ? `<div class="small t-verdict">${BS.num(t.baseline)} → ${BS.num(t.current)} ${BS.esc(t.unit)} since the baseline: ${BS.verdictBadge(t.change, t.verdict_text)}</div>` : "";
      const row = BS.h(`<div class="target"><div class="row"><b>${BS.esc(t.label)} ${BS.esc(t.direction)} ${BS.num(t.value)} ${BS.esc(t.unit)}</b><span class="muted small">due ${BS.date(t.due_date)}${pct !== null ? ` · ${pct}% of the way` : ""}</span><span class="spacer"></span></div>
        <div class="muted small t-condition">${BS.esc(where)}${t.notes ? ` · ${BS.esc(t.notes)}` : ""}</div>
        ${since}
        ${t.problem ? `<div class="problem" role="note">${t.wrong_side ? "⚠ Cannot be reached as set, change or delete it: " : t.too_small ? "⚠ Within the measurement noise, change or delete it: " : ""}${BS.esc(t.problem)}</div>` : ""}</div>`);
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
