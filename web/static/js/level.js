// The wobble board's live level: the deck's tilt as a dot in concentric zones (5, 10, 15, 20°,
// the last ring at the board's maximum, where the rim touches), the total tilt in big digits
// readable from the board 2 m away, and a red flash when the rim touches the platform.
//
// The dot goes where the deck dips (where the athlete's weight went, as the COP dot does on a
// firm board): bring it back to the middle. It is drawn on any BoardView canvas whose view has
// `wobble` set (board.js hands its draw over: `view.wobble = hold.wobble`, the live status of a
// wobble trial, docs/live-messages.md), and by `new Level.Gauge(canvas)` (the set-up page: a
// BoardView of its own with the tilt given). Tilt arrives at the status rate (~20/s) and is eased to the display rate.
// Level.shown holds what the last draw showed, in CSS px, and Level.flashes counts the rim
// flashes started (browser tests).
"use strict";
const Level = (() => {
  const ZONES_DEG = [5, 10, 15, 20];
  const ZONE_FILL = ["rgba(62, 207, 142, 0.28)", "rgba(245, 213, 36, 0.20)", "rgba(245, 140, 36, 0.20)", "rgba(240, 80, 80, 0.20)"];
  const ZONE_LINE = ["#3ecf8e", "#f5d524", "#f58c24", "#f05050"];
  const FLASH_S = 0.9;   // a rim contact flashes this long
  const EASE_S = 0.08;   // the dot follows the status with this time constant
  const SIDES = { ml: ["left", "right"], ap: ["back", "front"] };

  // The rings: 5, 10, 15 (those below the maximum) and the maximum itself.
  function rings(maxDeg) {
    const m = Number.isFinite(maxDeg) && maxDeg > 0 ? maxDeg : 20;
    return [...ZONES_DEG.filter((z) => z < m - 0.75), m];
  }

  function side(value, axis) {
    if (Math.abs(value) < 0.5) return "";
    return SIDES[axis][value > 0 ? 1 : 0];
  }

  // Per canvas: the eased tilt, the rim flash, the contacts seen.
  function stateOf(holder) {
    if (!holder._level) holder._level = { tilt: null, last: null, flashUntil: 0, contacts: null };
    return holder._level;
  }

  function draw(canvas, ctx, dpr, w) {
    const st = stateOf(canvas);
    const now = performance.now() / 1000;
    const dt = st.last === null ? 1 : Math.min(1, now - st.last);
    st.last = now;
    const goal = w.tilt_deg && Number.isFinite(w.tilt_deg[0]) && Number.isFinite(w.tilt_deg[1]) ? w.tilt_deg : null;
    if (goal) {
      const k = 1 - Math.exp(-dt / EASE_S);
      st.tilt = st.tilt ? [st.tilt[0] + k * (goal[0] - st.tilt[0]), st.tilt[1] + k * (goal[1] - st.tilt[1])] : [...goal];
    } else {
      st.tilt = null;
    }
    if (w.rim || (st.contacts !== null && (w.rim_contacts || 0) > st.contacts)) {
      if (now >= st.flashUntil) Level.flashes += 1;  // a new flash (tests count them)
      st.flashUntil = now + FLASH_S;
    }
    st.contacts = w.rim_contacts || 0;
    const flashing = now < st.flashUntil;

    const W = canvas.width, H = canvas.height, d = dpr;
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = "#0f1720"; ctx.fillRect(0, 0, W, H);
    // layout: the level on the left (or on top of a tall canvas), the digits beside it
    const wide = W >= H;
    const pad = 10 * d;
    const R = Math.max(10, (wide ? Math.min(H, W * 0.6) : Math.min(W, H * 0.62)) / 2 - pad);
    const cx = wide ? pad + R : W / 2, cy = wide ? H / 2 : pad + R;
    const maxDeg = Number.isFinite(w.max_tilt_deg) ? w.max_tilt_deg : 20;
    const ringDeg = rings(maxDeg);
    const perDeg = R / maxDeg;
    for (let i = ringDeg.length - 1; i >= 0; i--) {
      ctx.beginPath(); ctx.arc(cx, cy, ringDeg[i] * perDeg, 0, 2 * Math.PI);
      ctx.fillStyle = "#0f1720"; ctx.fill();
      ctx.fillStyle = ZONE_FILL[Math.min(i, ZONE_FILL.length - 1)]; ctx.fill();
      ctx.strokeStyle = ZONE_LINE[Math.min(i, ZONE_LINE.length - 1)];
      ctx.lineWidth = (i === ringDeg.length - 1 ? 4 : 2) * d; ctx.stroke();
    }
    // cross hairs and ring labels
    ctx.strokeStyle = "rgba(232, 238, 244, 0.25)"; ctx.lineWidth = 1 * d;
    ctx.beginPath(); ctx.moveTo(cx - R, cy); ctx.lineTo(cx + R, cy); ctx.moveTo(cx, cy - R); ctx.lineTo(cx, cy + R); ctx.stroke();
    ctx.fillStyle = "rgba(232, 238, 244, 0.8)"; ctx.font = `${Math.max(11 * d, R / 13)}px system-ui, sans-serif`;
    ctx.textAlign = "left"; ctx.textBaseline = "bottom";
    ringDeg.forEach((z, i) => {  // the zones up the top right, the rim's at the bottom right
      const last = i === ringDeg.length - 1;
      const a = last ? -Math.PI / 4 : Math.PI / 4;
      ctx.fillText(last ? `rim ${Math.round(z * 10) / 10}°` : `${z}°`, cx + z * perDeg * Math.cos(a) + 3 * d, cy - z * perDeg * Math.sin(a) + (last ? 14 * d : 0));
    });
    // the trial's target zone (a wobble drill)
    const target = Number.isFinite(w.target_deg) ? w.target_deg : null;
    if (target !== null) {
      ctx.beginPath(); ctx.arc(cx, cy, target * perDeg, 0, 2 * Math.PI);
      ctx.strokeStyle = w.inside ? "#3ecf8e" : "#ffffff"; ctx.lineWidth = 5 * d;
      ctx.setLineDash([10 * d, 6 * d]); ctx.stroke(); ctx.setLineDash([]);
    }
    // the dot: where the deck dips, clamped to the rim ring
    // past the maximum the COP has jumped towards the rim: the deck itself rests at the maximum
    let dotPx = null, total = null, tilt = null;
    if (st.tilt) {
      const raw = Math.hypot(st.tilt[0], st.tilt[1]);
      const k = raw > maxDeg ? maxDeg / raw : 1;
      tilt = [st.tilt[0] * k, st.tilt[1] * k];
      total = Math.min(raw, maxDeg);
      const x = cx + tilt[0] * perDeg, y = cy - tilt[1] * perDeg;
      const r = Math.max(9 * d, R * 0.085);
      ctx.fillStyle = "#ffffff"; ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.fill();
      ctx.fillStyle = flashing ? "#f05050" : total <= ringDeg[0] ? "#3ecf8e" : "#f5a524";
      ctx.beginPath(); ctx.arc(x, y, r * 0.78, 0, 2 * Math.PI); ctx.fill();
      dotPx = [x / d, y / d];
    }
    if (flashing) {  // the rim touched: a red ring round the level and a word
      const a = 0.45 + 0.45 * Math.abs(Math.sin((st.flashUntil - now) * 9));
      ctx.strokeStyle = `rgba(240, 80, 80, ${a})`; ctx.lineWidth = 12 * d;
      ctx.beginPath(); ctx.arc(cx, cy, R + 2 * d, 0, 2 * Math.PI); ctx.stroke();
    }
    // the digits
    const x0 = wide ? cx + R + pad : pad, x1 = W - pad;
    const top = wide ? pad : cy + R + pad, bottom = H - pad;
    const tx = (x0 + x1) / 2;
    const big = Math.max(24 * d, Math.min((x1 - x0) / 2.0, (bottom - top) * (wide ? 0.34 : 0.5)));
    ctx.textAlign = "center"; ctx.textBaseline = "alphabetic";
    const bigY = wide ? cy + big * 0.2 : top + big * 0.9;
    ctx.fillStyle = flashing ? "#ff8a8a" : total !== null && total <= ringDeg[0] ? "#b8f5d6" : "#ffffff";
    ctx.font = `700 ${flashing ? big * 0.75 : big}px system-ui, sans-serif`;  // "RIM" is wider
    ctx.fillText(flashing ? "RIM" : total === null ? "–" : `${Math.round(total)}°`, tx, bigY);
    const small = Math.max(12 * d, big * 0.2);
    ctx.font = `${small}px system-ui, sans-serif`; ctx.fillStyle = "#cfd9e3";
    const lines = [];
    if (tilt) {
      lines.push(`${total.toFixed(1)}° tilt`);
      lines.push(`${Math.abs(tilt[0]).toFixed(1)}° ${side(tilt[0], "ml")}`.trim() + ` · ${Math.abs(tilt[1]).toFixed(1)}° ${side(tilt[1], "ap")}`.trimEnd());
    }
    if (target !== null && Number.isFinite(w.in_target_pct)) lines.push(`${Math.round(w.in_target_pct)}% inside ${target}°`);
    if (w.rim_contacts) lines.push(`rim touched ${w.rim_contacts}×`);
    lines.forEach((line, i) => ctx.fillText(line, tx, bigY + small * (1.5 + 1.3 * i)));
    const shown = {
      tiltDeg: tilt, totalDeg: total, dotPx, radiusPx: R / d,
      digitsPx: big / d, rings: ringDeg, flashing, target,
    };
    Level.shown = shown;
    return shown;
  }

  // A level on a canvas of its own (the set-up page): `set(w)` with the same fields as the
  // live status' hold.wobble; drawn by a BoardView (the one renderer) at display rate.
  class Gauge {
    constructor(canvas) {
      this.view = new BoardView.View(canvas);
      this.w = { tilt_deg: null, max_tilt_deg: 20 };
      this.view.wobble = this.w;
      const loop = () => { this.view.draw(); this.shown = this.view.shown && this.view.shown.level; requestAnimationFrame(loop); };
      requestAnimationFrame(loop);
    }
    set(w) { this.w = w; this.view.wobble = w; }
  }

  // The board view's hook: board.js calls this instead of drawing the board when view.wobble is set.
  // Its tilt comes from the view's COP dot (interpolated at display rate) by the straight-line
  // rule with the status' level point, as the hold engine computes hold.wobble.tilt_deg.
  function drawView(view) {
    const w = view.wobble;
    const fromDot = tiltFrom(view.dot, w.level_mm, w.mm_per_deg);
    const shown = draw(view.canvas, view.ctx, view.dpr, fromDot ? { ...w, tilt_deg: fromDot } : w);
    view.shown = { ...(view.shown || {}), level: shown };
  }

  // Tilt (deg, ML and AP) from a COP by the straight-line rule: the contact rolls R per radian.
  function tiltFrom(copMm, levelMm, mmPerDeg) {
    if (!copMm || !levelMm || !(mmPerDeg > 0)) return null;
    return [(copMm[0] - levelMm[0]) / mmPerDeg, (copMm[1] - levelMm[1]) / mmPerDeg];
  }

  return { Gauge, drawView, draw, rings, tiltFrom, ZONES_DEG, shown: null, flashes: 0 };
})();
