// Helpers shared by every page: the JSON API with the CSRF header, page data, formatting.
"use strict";
const BS = (() => {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const el = document.getElementById("page-data");
  const data = el ? JSON.parse(el.textContent) : null;

  class ApiError extends Error {
    // field: the request field the API names as at fault (400s), for a form to mark it
    constructor(status, message, field = null) { super(message); this.status = status; this.field = field; }
  }

  async function api(method, url, body) {
    const opts = { method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (method !== "GET") opts.headers["X-CSRF-Token"] = csrf;
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const resp = await fetch(url, opts);
    let payload = null;
    try { payload = await resp.json(); } catch (e) { payload = null; }
    if (!resp.ok) {
      const msg = (payload && (payload.error || payload.message)) || `${resp.status} ${resp.statusText}`;
      throw new ApiError(resp.status, msg, (payload && payload.field) || null);
    }
    return payload;
  }

  function num(v, d = 1) {
    return v === null || v === undefined || Number.isNaN(v) ? "–" : Number(v).toFixed(d);
  }
  function date(iso) {
    if (!iso) return "–";
    const d = new Date(iso);
    return d.toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" });
  }
  function dateTime(iso) {
    if (!iso) return "–";
    const d = new Date(iso);
    return d.toLocaleString(undefined, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  }
  function esc(s) {
    return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  function h(html) {
    const t = document.createElement("template");
    t.innerHTML = html.trim();
    return t.content.firstElementChild;
  }
  // A message at the top of the screen (station.css .toasts: never over the buttons). The same
  // message already showing is not shown twice (it stays longer); at most three at a time;
  // a tap dismisses one.
  const TOASTS_MAX = 3;
  function toast(message, kind = "info") {
    let box = document.getElementById("toasts");
    if (!box) { box = h('<div id="toasts" class="toasts" role="status" aria-live="polite"></div>'); document.body.append(box); }
    const life = kind === "bad" ? 8000 : 4000;
    const same = [...box.children].find((t) => t.dataset.message === message && t.dataset.kind === kind);
    if (same) { clearTimeout(same.timer); same.timer = setTimeout(() => same.remove(), life); return; }
    const item = h(`<div class="toast toast-${kind}">${esc(message)}</div>`);
    item.dataset.message = message; item.dataset.kind = kind;
    item.addEventListener("click", () => item.remove());
    box.append(item);
    while (box.children.length > TOASTS_MAX) box.firstElementChild.remove();
    item.timer = setTimeout(() => item.remove(), life);
  }

  // A form with data-confirm="question" (Kiosk mode, Exit kiosk) asks first, in place: the
  // button becomes the question with its own Yes (data-confirm-yes) and Cancel.
  document.addEventListener("submit", (ev) => {
    const form = ev.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm || form.dataset.confirmed) return;
    ev.preventDefault();
    if (form.querySelector(".confirm")) return;
    const button = form.querySelector("button[type=submit]");
    const ask = h(`<span class="confirm" role="group"><span class="small">${esc(form.dataset.confirm)}</span><button class="btn btn-small" type="button" data-yes>${esc(form.dataset.confirmYes || "Yes")}</button><button class="btn btn-small btn-ghost" type="button" data-cancel>Cancel</button></span>`);
    ask.querySelector("[data-yes]").addEventListener("click", () => { form.dataset.confirmed = "1"; form.requestSubmit(); });
    ask.querySelector("[data-cancel]").addEventListener("click", () => { ask.remove(); button.hidden = false; button.focus(); });
    button.hidden = true;
    form.append(ask);
    ask.querySelector("[data-yes]").focus();
  });

  // "⚠ clock" marks (a trial recorded before the station's clock was set) explain themselves
  // on a tap too: touch screens have no hover for the title (a repeated tap does not stack).
  document.addEventListener("click", (ev) => {
    const mark = ev.target instanceof Element && ev.target.closest(".clock-warn");
    if (!mark) return;
    ev.stopPropagation(); ev.preventDefault();  // not the row's own action (a replay)
    toast(mark.title || "The station clock was not set: the date may be wrong.", "info");
  }, true);
  function scoreClass(s) {
    if (s === null || s === undefined) return "";
    return s >= 70 ? "good" : s >= 40 ? "mid" : "low";
  }
  // A change against a reference as the station judged it (station/analysis/history/
  // comparison.py): the arrow follows the sign and appears only beyond the measurement error
  // (MDC), the colour follows the verdict; within the MDC the change is grey with "≈".
  function changeBadge(cmp, unit, digits = 1) {
    if (!cmp) return '<span class="chg chg-none">–</span>';
    if (cmp.change === null) return `<span class="chg chg-none" title="${esc(cmp.note || "")}">–</span>`;
    // the station's text (comparison.change_text: "0.0" with no sign when it rounds to 0)
    const shown = num(Math.abs(cmp.change), digits);
    const text = cmp.text ?? `${Number(shown) === 0 ? "" : cmp.change > 0 ? "+" : "−"}${shown}`;
    const cls = cmp.tone === "good" ? "chg-up" : cmp.tone === "bad" ? "chg-down" : "chg-flat";
    const mark = cmp.arrow ? `${cmp.arrow} ` : cmp.verdict === "within_mdc" ? "≈ " : "";
    const mdc = cmp.mdc ? ` (MDC ${num(cmp.mdc, digits)} ${unit})` : "";
    const title = !cmp.mdc ? "no measurement-error figure for this measure"
      : cmp.exceeds_mdc ? `beyond the measurement error${mdc}` : `within the measurement error${mdc}: may be noise`;
    return `<span class="chg ${cls}" title="${esc(title)}">${mark}${esc(text)}</span>`;
  }
  // The reliable-change verdict in words ("real improvement", "within measurement noise",
  // "real decline", "baseline only"), coloured only when the change is real.
  function verdictBadge(cmp, text) {
    if (!text) return "";
    const cls = cmp && cmp.verdict === "improved" ? "chg-up" : cmp && cmp.verdict === "worse" ? "chg-down" : "chg-flat";
    return `<span class="chg ${cls} verdict">${esc(text)}</span>`;
  }
  // "baseline: 6 Jan 2025, best of 3" (the baseline assessment a change is measured from)
  function baselineText(b) {
    return b ? `baseline: ${date(b.date)}, ${b.rule}` : "no baseline yet";
  }
  return { api, data, num, date, dateTime, esc, h, toast, scoreClass, changeBadge, verdictBadge, baselineText, ApiError };
})();
