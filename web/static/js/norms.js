// What a number means, on the result card: each measure's percentile band against the
// matching norm (or why there is none) and the real-change verdict against the baseline.
// Data: the result card's `norms` (station/analysis/history/norms_view.py) and each
// measure's vs_baseline.verdict_text (station/analysis/history/comparison.py).
"use strict";
const Norms = (() => {
  const ordinal = (p) => {
    const n = Math.round(p);
    const s = n % 100 >= 11 && n % 100 <= 13 ? "th" : ({ 1: "st", 2: "nd", 3: "rd" }[n % 10] || "th");
    return `${n}${s}`;
  };
  function bandLine(m) {
    if (m.percentile === null || m.percentile === undefined) {
      return `<li class="norm-none"><b>${BS.esc(m.label)}</b>: no norm <span class="muted small">(${BS.esc(m.why || m.reason || "")})</span></li>`;
    }
    const cls = m.band === "typical" ? "chg-flat" : m.band === "low" ? "chg-up" : "chg-down";
    return `<li><b>${BS.esc(m.label)}</b>: <span class="${cls}">${BS.esc(m.band_text)}</span>,
      ${ordinal(m.percentile)} percentile <span class="muted small">(lower = less sway)</span>
      <details class="muted small"><summary>${BS.esc(m.norm_text)}</summary>${BS.esc(m.caveats.join("; "))}.</details></li>`;
  }
  function verdictLine(m) {
    const v = m.vs_baseline;
    if (!v || !v.verdict_text) return "";
    const cls = v.verdict === "improved" ? "chg-up" : v.verdict === "worse" ? "chg-down" : "chg-flat";
    const mdc = v.mdc ? ` (MDC ${BS.num(v.mdc, m.digits)} ${BS.esc(m.unit)}, ${BS.esc(v.mdc_basis || "")})` : "";
    return `<li><b>${BS.esc(m.label)}</b> vs baseline: <span class="${cls}">${BS.esc(v.verdict_text)}</span><span class="muted small">${mdc}</span></li>`;
  }
  // The card's "what it means" block (an element; empty when the card has nothing to say).
  function cardBlock(card) {
    const box = BS.h('<div class="norms-card" id="res-norms"></div>');
    if (!card) return box;
    const norms = card.norms && card.norms.measures ? card.norms.measures : [];
    const verdicts = card.measures.filter((m) => m.key !== "score").map(verdictLine).filter(Boolean);
    if (norms.length) box.append(BS.h(`<div><h3 class="small">For age</h3><ul class="norms-list">${norms.map(bandLine).join("")}</ul></div>`));
    if (verdicts.length) box.append(BS.h(`<div><h3 class="small">Real change?</h3><ul class="norms-list">${verdicts.join("")}</ul></div>`));
    return box;
  }
  // Replace the card's block under `anchor` (the measures box) with this card's.
  function showOnCard(anchor, card) {
    const old = document.getElementById("res-norms");
    if (old) old.remove();
    anchor.after(cardBlock(card));
  }
  return { cardBlock, showOnCard, ordinal };
})();
