// Athlete page: corrections to the record. Everyone sees the badges (archived, demo) and
// invalidated trials greyed with who, when and why (they count for no trend, baseline or
// score); physios and admins (page data can_edit_records) also get "Invalidate" (a reason
// is required) and "Count again" per trial, "Edit athlete" and "Archive"/"Unarchive".
// Runs after athlete.js has drawn the trial table. A change reloads the page: trends,
// baselines and targets are the server's to recompute.
"use strict";
(() => {
  const D = BS.data;
  const $ = (id) => document.getElementById(id);
  const a = D.athlete;
  const athleteUrl = `/api/athletes/${encodeURIComponent(a.uid)}`;
  const NOTICE = "records-notice";  // a toast that survives the reload

  const notice = sessionStorage.getItem(NOTICE);
  if (notice) { sessionStorage.removeItem(NOTICE); BS.toast(notice, "ok"); }
  function reloadWith(message) {
    sessionStorage.setItem(NOTICE, message);
    location.reload();
  }

  // -- badges ---------------------------------------------------------------------------------
  const badges = $("a-badges");
  if (a.archived) badges.append(BS.h('<span class="pill pill-wait" title="Off the kiosk and the team; the history is kept">archived</span>'));
  if (a.demo) badges.append(BS.h('<span class="pill pill-info" title="A simulated demo athlete (Settings can remove the demo data)">demo</span>'));

  // -- trials: invalidated ones greyed with why; Invalidate / Count again for editors ----------
  const tbody = $("trials").querySelector("tbody");
  const rows = new Map([...tbody.querySelectorAll("tr[data-uid]")].map((tr) => [tr.dataset.uid, tr]));
  function noteRow(t) {
    const again = D.can_edit_records ? '<button class="btn btn-ghost btn-small" type="button" data-act="revalidate">Count again</button>' : "";
    const tr = BS.h(`<tr class="trial-invalid-note" data-for="${BS.esc(t.uid)}"><td colspan="5"><div class="invalid-line"><span><b>Not counted:</b> ${BS.esc(invalidText(t.invalid))}</span>${again}</div></td></tr>`);
    tr.querySelector("[data-act=revalidate]")?.addEventListener("click", () => revalidate(t));
    return tr;
  }
  // "invalidated by physio1 on 24 Nov 2026: stepped off early" (the server's text, the date
  // in the page's format)
  function invalidText(v) {
    return `invalidated${v.by ? ` by ${v.by}` : ""}${v.at ? ` on ${BS.date(v.at)}` : ""}${v.reason ? `: ${v.reason}` : ""}`;
  }
  for (const t of D.trials) {
    const tr = rows.get(t.uid);
    if (!tr) continue;
    if (t.invalid) {
      tr.classList.add("trial-invalid");
      tr.title = `Not counted: ${invalidText(t.invalid)}`;
      tr.after(noteRow(t));
    } else if (D.can_edit_records) {
      const button = BS.h('<button class="btn btn-ghost btn-small invalidate" type="button" data-act="invalidate" title="This trial does not count (say why): it stays listed, out of trends, baselines and scores">Invalidate</button>');
      button.addEventListener("click", (ev) => { ev.stopPropagation(); askReason(t, tr); });
      tr.cells[0].append(button);
    }
  }

  function askReason(t, tr) {
    if (tbody.querySelector(`tr.reason-row[data-for="${CSS.escape(t.uid)}"]`)) return;
    const row = BS.h(`<tr class="reason-row" data-for="${BS.esc(t.uid)}"><td colspan="5"><form class="reason-form" novalidate>
      <label>Why does the ${BS.esc(BS.dateTime(t.started_at))} trial not count? (required)
        <input name="reason" required maxlength="500" placeholder="e.g. stepped off early, wrong leg" autocomplete="off"></label>
      <span class="field-error" data-field="reason"></span>
      <div class="actions"><button class="btn btn-small" type="submit">Invalidate trial</button><button class="btn btn-ghost btn-small" type="button" data-act="cancel">Cancel</button></div>
    </form></td></tr>`);
    const form = row.querySelector("form");
    const error = row.querySelector(".field-error");
    row.querySelector("[data-act=cancel]").addEventListener("click", () => row.remove());
    form.elements.reason.addEventListener("input", () => { error.textContent = ""; });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const reason = form.elements.reason.value.trim();
      error.textContent = reason ? "" : "Say why the trial does not count.";
      if (!reason) { form.elements.reason.focus(); return; }
      try {
        await BS.api("POST", `/api/trials/${encodeURIComponent(t.uid)}/invalidate`, { reason });
        reloadWith("Trial invalidated: it no longer counts.");
      } catch (e) { error.textContent = e.message; }
    });
    tr.after(row);
    form.elements.reason.focus();
  }

  async function revalidate(t) {
    try {
      await BS.api("POST", `/api/trials/${encodeURIComponent(t.uid)}/revalidate`, {});
      reloadWith("The trial counts again.");
    } catch (e) { BS.toast(e.message, "bad"); }
  }

  if (!D.can_edit_records) return;

  // -- edit the athlete (PATCH: the API's errors shown under the field they name) -------------
  const panel = $("edit-athlete");
  const form = $("edit-form");
  const editButton = $("a-edit");
  function showErrors(field, message) {
    const shown = field && message.startsWith(`${field} `) ? message.slice(field.length + 1) : message;  // under its field already
    form.querySelectorAll(".field-error").forEach((el) => { el.textContent = el.dataset.field === field ? shown : ""; });
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    const input = field && form.elements[field];
    if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
  }
  async function openEditor() {
    try {
      const full = await BS.api("GET", athleteUrl);
      for (const name of ["name", "team", "dominant_leg", "birth_year", "sex", "height_cm", "body_mass_kg", "sport", "level", "notes"]) form.elements[name].value = full[name] ?? "";
    } catch (e) { BS.toast(e.message, "bad"); return; }
    showErrors(null, "");
    panel.hidden = false;
    editButton.setAttribute("aria-expanded", "true");
    panel.scrollIntoView({ behavior: "smooth", block: "start" });
    form.elements.name.focus();
  }
  function closeEditor() { panel.hidden = true; editButton.setAttribute("aria-expanded", "false"); }
  editButton.addEventListener("click", () => (panel.hidden ? openEditor() : closeEditor()));
  $("edit-cancel").addEventListener("click", closeEditor);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = form.elements;
    const text = (v) => (v.trim() === "" ? null : v.trim());
    const body = { name: f.name.value.trim(), team: text(f.team.value), dominant_leg: f.dominant_leg.value || null,
      birth_year: f.birth_year.value === "" ? null : Number(f.birth_year.value), notes: text(f.notes.value),
      sex: f.sex.value || null, height_cm: f.height_cm.value === "" ? null : Number(f.height_cm.value),
      body_mass_kg: f.body_mass_kg.value === "" ? null : Number(f.body_mass_kg.value),
      sport: text(f.sport.value), level: text(f.level.value) };
    if (!body.name) { showErrors("name", "A name is required."); return; }
    if (body.birth_year !== null && !Number.isInteger(body.birth_year)) { showErrors("birth_year", "A year, e.g. 2008."); return; }
    try {
      const saved = await BS.api("PATCH", athleteUrl, body);
      reloadWith(`${saved.name} saved.`);
    } catch (e) {
      if (e.field && form.elements[e.field]) showErrors(e.field, e.message);
      else BS.toast(e.message, "bad");
    }
  });

  // -- archive / unarchive (base's data-confirm asks first; this runs once confirmed) ----------
  const archiveForm = $("a-archive-form");
  archiveForm.addEventListener("submit", async (ev) => {
    if (!archiveForm.dataset.confirmed) return;  // the question first (common.js)
    ev.preventDefault();
    delete archiveForm.dataset.confirmed;
    const action = archiveForm.dataset.action;
    try {
      await BS.api("POST", `${athleteUrl}/${action}`, {});
      reloadWith(action === "archive" ? `${a.name} archived: off the kiosk and the team, history kept.` : `${a.name} is back on the kiosk and the team.`);
    } catch (e) { BS.toast(e.message, "bad"); }
  });
})();
