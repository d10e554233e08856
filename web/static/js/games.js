// The biofeedback games drawn over the board (BoardView): what the athlete steers the dot to.
// The hold engine's live status carries each game's target state as `hold.game`
// (docs/live-messages.md, "The games' target state"); a page sets view.game = hold.game and
// the board renderer calls Games.draw after the platform and before the dot, and asks
// Games.extent where a followed view should look. One form per task:
// - weight_shift: the swing's path, the moving target with its band (green when the dot is
//   in it), and the share of time in the band;
// - limits_of_stability: the 8 targets at the theoretical limits, the one to lean to now,
//   and the athlete's reach so far in each direction as a filled polygon (their envelope);
// - maze: every target, numbered, the ones collected ticked, the current one with the dwell
//   filling round it;
// - toe_taps: the circle the dot should stay in between taps and a beat bar that fills to
//   each beat.
// Where the page has sound cues (cues.js: the kiosk), the beats, the LOS cues and the maze's
// collected targets are heard too.
"use strict";
const Games = (() => {
  const GREEN = "#3ecf8e", AMBER = "#f5a524", BLUE = "#5aa9ff", MUTED = "rgba(147, 164, 181, 0.55)";

  function circle(view, ctx, x, y, r, fill, stroke, width) {
    const [px, py, s] = view.px(x, y);
    ctx.beginPath(); ctx.arc(px, py, Math.max(r * s, 3 * view.dpr), 0, 2 * Math.PI);
    if (fill) { ctx.fillStyle = fill; ctx.fill(); }
    if (stroke) { ctx.strokeStyle = stroke; ctx.lineWidth = (width || 2) * view.dpr; ctx.stroke(); }
  }

  function line(view, ctx, a, b, color, width, dash) {
    const [ax, ay] = view.px(a[0], a[1]), [bx, by] = view.px(b[0], b[1]);
    ctx.strokeStyle = color; ctx.lineWidth = (width || 2) * view.dpr;
    ctx.setLineDash(dash ? dash.map((v) => v * view.dpr) : []);
    ctx.beginPath(); ctx.moveTo(ax, ay); ctx.lineTo(bx, by); ctx.stroke(); ctx.setLineDash([]);
  }

  function label(view, ctx, text, x, y, color) {
    const [px, py] = view.px(x, y);
    ctx.fillStyle = color || "#e8eef4"; ctx.font = `600 ${12 * view.dpr}px system-ui, sans-serif`;
    ctx.textAlign = "center"; ctx.textBaseline = "middle"; ctx.fillText(text, px, py);
    ctx.textBaseline = "alphabetic";
  }

  // One line at the top of the canvas: what to do now and how it is going. A zoomed view has
  // the whole-board inset in the top-left corner (board.js inset(): 24 % of the width, at
  // most 120 px): the line keeps right of it. The type shrinks (down to 11 px) to fit a
  // phone's narrow board, then the line is cut with an ellipsis.
  function caption(view, ctx, text, color) {
    const d = view.dpr, c = view.canvas;
    const left = view.zoom > 1.5 ? 16 * d + Math.min(c.width * 0.24, 120 * d) : 8 * d;
    const room = c.width - 8 * d - left, pad = 16 * d;
    let size = 15;
    ctx.textAlign = "center";
    ctx.font = `700 ${size * d}px system-ui, sans-serif`;
    while (size > 11 && ctx.measureText(text).width + pad > room) {
      size -= 1; ctx.font = `700 ${size * d}px system-ui, sans-serif`;
    }
    while (text.length > 8 && ctx.measureText(text).width + pad > room) text = `${text.slice(0, -2).trimEnd()}…`;
    const w = Math.min(room, ctx.measureText(text).width + pad), mid = left + room / 2;
    ctx.fillStyle = "rgba(15, 23, 32, 0.72)";
    ctx.beginPath(); ctx.roundRect(mid - w / 2, 8 * d, w, (size + 11) * d, 6 * d); ctx.fill();
    ctx.fillStyle = color || "#e8eef4"; ctx.fillText(text, mid, (size + 12) * d);
  }

  const pct = (v) => (v === null || v === undefined ? "–" : `${Math.round(v)} %`);
  const spoken = (direction) => String(direction || "").replace("-", " ");  // "forward right"

  const draw = {
    weight_shift(view, ctx, g) {
      if (g.path_mm) line(view, ctx, g.path_mm[0], g.path_mm[1], MUTED, 3, [8, 6]);
      const [x, y] = g.target_mm;
      circle(view, ctx, x, y, g.band_mm, g.in_band ? "rgba(62, 207, 142, 0.22)" : "rgba(245, 165, 36, 0.18)",
        g.in_band ? GREEN : AMBER, 3);
      circle(view, ctx, x, y, 2.5, "#e8eef4", null);
      return [`Follow the target · ${pct(g.pct_in_band)} in the band`, g.in_band ? GREEN : AMBER];
    },
    limits_of_stability(view, ctx, g) {
      const c = g.centre_mm && g.centre_mm[0] !== null ? g.centre_mm : [0, 0];
      const targets = g.targets_mm;
      // the reach so far: the athlete's own envelope, growing direction by direction
      const pts = targets.map(([tx, ty], k) => {
        const r = Math.hypot(tx, ty) || 1, reach = Math.max(0, g.reach_mm[k] || 0);
        return [c[0] + tx / r * reach, c[1] + ty / r * reach];
      });
      if (g.reach_mm.some((v) => v > 0)) {
        ctx.beginPath();
        pts.forEach(([x, y], i) => { const [px, py] = view.px(x, y); if (i) ctx.lineTo(px, py); else ctx.moveTo(px, py); });
        ctx.closePath(); ctx.fillStyle = "rgba(90, 169, 255, 0.16)"; ctx.fill();
        ctx.strokeStyle = "rgba(90, 169, 255, 0.7)"; ctx.lineWidth = 1.5 * view.dpr; ctx.stroke();
      }
      targets.forEach(([tx, ty], k) => {
        const now = g.phase === "lean" && g.index === k;
        const p = [c[0] + tx, c[1] + ty];
        if (now) line(view, ctx, c, p, AMBER, 2, [6, 5]);
        circle(view, ctx, p[0], p[1], now ? 14 : 9, now ? "rgba(245, 165, 36, 0.35)" : "rgba(29, 42, 55, 0.9)",
          now ? AMBER : MUTED, now ? 3 : 1.5);
      });
      const back = g.phase === "return";
      circle(view, ctx, c[0], c[1], 10, back ? "rgba(62, 207, 142, 0.25)" : null, back ? GREEN : MUTED, back ? 3 : 1.5);
      if (g.phase === "lean") return [`Lean ${spoken(g.direction)}, as far as you can`, AMBER];
      if (back) return ["Back to the centre", GREEN];
      if (g.phase === "done") return ["All 8 directions done", GREEN];
      return ["Stand tall: the first target comes", "#e8eef4"];
    },
    maze(view, ctx, g) {
      const t = g.targets_mm;
      for (let i = t.length - 1; i >= 0; i--) {
        const [x, y] = t[i];
        if (i < g.index) { circle(view, ctx, x, y, 6, "rgba(62, 207, 142, 0.6)", null); continue; }
        if (i === g.index) continue;
        circle(view, ctx, x, y, g.radius_mm, null, MUTED, 1.5);
        label(view, ctx, String(i + 1), x, y, MUTED);
      }
      if (g.index < t.length) {
        const [x, y] = t[g.index];
        if (g.index + 1 < t.length) line(view, ctx, t[g.index], t[g.index + 1], MUTED, 1.5, [4, 6]);
        circle(view, ctx, x, y, g.radius_mm, g.inside ? "rgba(62, 207, 142, 0.22)" : "rgba(245, 165, 36, 0.2)",
          g.inside ? GREEN : AMBER, 3);
        if (g.dwell_frac > 0) {  // the stay that collects it, filling round the target
          const [px, py, s] = view.px(x, y);
          ctx.beginPath(); ctx.arc(px, py, g.radius_mm * s + 5 * view.dpr, -Math.PI / 2, -Math.PI / 2 + 2 * Math.PI * g.dwell_frac);
          ctx.strokeStyle = GREEN; ctx.lineWidth = 4 * view.dpr; ctx.stroke();
        }
        label(view, ctx, String(g.index + 1), x, y);
      }
      if (g.done) return [`All ${t.length} targets reached`, GREEN];
      return [`Target ${g.index + 1} of ${t.length}: steer in and hold`, g.inside ? GREEN : AMBER];
    },
    toe_taps(view, ctx, g) {
      const c = g.centre_mm && g.centre_mm[0] !== null ? g.centre_mm : null;
      if (c) circle(view, ctx, c[0], c[1], g.radius_mm, "rgba(90, 169, 255, 0.08)", BLUE, 2);
      const d = view.dpr, cv = view.canvas;  // the beat: a bar filling to each tap
      const w = Math.min(cv.width * 0.5, 260 * d), x0 = (cv.width - w) / 2, y0 = 42 * d;  // under the caption
      ctx.fillStyle = "rgba(15, 23, 32, 0.82)"; ctx.fillRect(x0, y0, w, 8 * d);
      ctx.fillStyle = g.in_tap ? GREEN : BLUE; ctx.fillRect(x0, y0, w * (g.beat_phase || 0), 8 * d);
      const lost = g.lost_control ? ` · lost control ${g.lost_control}` : "";
      return [`Tap to the beat · ${g.taps} taps${lost}`, g.lost_control ? AMBER : GREEN];
    },
  };

  // Where a followed view should look: the game's whole field, not just the dot. The
  // two-footed fields are looked at a little forward of their centre, so the caption at the
  // top of the canvas does not sit on the forward target.
  function extent(g) {
    let pts = [];
    let pad = 15, cy = 0;
    if (g.task === "weight_shift" && g.path_mm) { pts = g.path_mm; pad = g.band_mm + 10; }
    else if (g.task === "limits_of_stability") { pts = g.targets_mm; pad = 30; cy = 20; }
    else if (g.task === "maze") { pts = g.targets_mm; pad = g.radius_mm + 15; cy = 12; }
    else if (g.task === "toe_taps" && g.centre_mm && g.centre_mm[0] !== null) {
      return { center: g.centre_mm, half: g.radius_mm * 1.5 };
    }
    if (!pts.length) return { center: [0, 0], half: 60 };
    let half = 0;
    for (const [x, y] of pts) half = Math.max(half, Math.abs(x) + pad, Math.abs(y - cy) + pad);
    return { center: [0, cy], half };
  }

  // Sound (cues.js, where the page has it): a tick on each beat of the toe taps and on each
  // new LOS direction, a chime for each maze target collected; each once, on the change.
  function sound(view, g) {
    if (typeof Cues === "undefined") return;
    const was = view.gameHeard || {};
    const now = { task: g.task, phase: g.beat_phase, index: g.index, reached: g.reached, lean: g.phase === "lean" };
    if (was.task === g.task) {
      if (g.task === "toe_taps" && now.phase < was.phase - 0.5) Cues.play("tick");
      if (g.task === "limits_of_stability" && now.lean && (!was.lean || now.index !== was.index)) Cues.play("tick");
      if (g.task === "maze" && now.reached > was.reached) Cues.play("start");
    }
    view.gameHeard = now;
  }

  function drawGame(view, ctx) {
    const g = view.game;
    const fn = g && draw[g.task];
    if (!fn) return null;
    sound(view, g);
    const [text, color] = fn(view, ctx, g);
    caption(view, ctx, text, color);
    return text;
  }

  return { draw: drawGame, extent, tasks: Object.keys(draw) };
})();
