// The one board renderer: the board seen from above on a canvas (platform outline, cells,
// feet with the stance foot highlighted, an optional target circle, a game's targets
// (view.game, drawn by games.js), the COP dot with a short
// fading trail, a replay's whole path). Used by the kiosk, the physio page, the athlete
// page's replay, the live view (/live) and the watch view (/watch). Board frame: x right,
// y forward, mm. The cells' positions are the station's (Facts, from station.geometry); the
// outline and the feet are only a picture.
//
// At board scale a single-leg hold's ±10 mm of sway is ±8 px, less than the dot: a live
// view built with { follow: true } zooms to the task instead: the drill's target, else the
// athlete's own recent sway around the stance (at least FOLLOW_MIN_HALF_MM each side), and
// eases back to the whole board when nobody stands on it. A zoomed view always shows a
// scale bar and a small whole-board inset (where on the board this is); the dot's size is
// in mm clamped to a legible range, so it follows the zoom and never hides the target.
"use strict";
const BoardView = (() => {
  const PLATFORM = Object.freeze({ halfW: 250, halfL: 190 });  // drawn platform half-size (mm)
  const CELLS = Facts.cells.map((c) => [c.x_mm, c.y_mm]);
  const FOOT = { x: 90, halfW: 45, halfL: 125 };
  const FOLLOW_MIN_HALF_MM = { single: 25, other: 40 };  // the least a followed view shows
  const FOLLOW_MAX_ZOOM = 12;
  const DOT = { mm: 3, minPx: 6, maxPx: 13 };  // dot radius: 3 mm, between 6 and 13 CSS px
  const views = [];  // every view of the page (browser tests read `shown`)

  class View {
    constructor(canvas, opts = {}) {
      this.canvas = canvas;
      this.ctx = canvas.getContext("2d");
      this.trailS = opts.trailS ?? 1.5;
      this.stance = null;      // "single-left" | "single-right" | "double" | "tandem" | null
      this.target = null;      // {x_mm, y_mm, radius_mm, inside}
      this.game = null;        // a game's target state (hold.game), drawn by games.js
      this.wobble = null;      // a wobble trial's hold.wobble: drawn as a level (level.js)
      this.trail = [];         // [t, x, y]
      this.dot = null;         // [x, y]
      this.path = null;        // full trace for replay: [[x, y], ...]
      this.zoom = 1;           // > 1 magnifies around `center` (replay of a few mm of sway)
      this.center = [0, 0];
      this.follow = opts.follow ?? false;  // live: zoom to the task (see the top)
      this.focus = null;       // followed: the slowly moving centre of the athlete's sway
      this.lastDraw = null;
      this.shown = null;       // what the last draw showed, in CSS px (tests, docs)
      views.push(this);
      this.resize();
      new ResizeObserver(() => this.resize()).observe(canvas);
    }
    resize() {
      const r = this.canvas.getBoundingClientRect();
      const dpr = window.devicePixelRatio || 1;
      this.canvas.width = Math.max(1, Math.round(r.width * dpr));
      this.canvas.height = Math.max(1, Math.round(r.height * dpr));
      this.dpr = dpr;
    }
    px(x, y) {
      const c = this.canvas;
      const s = this.zoom * Math.min(c.width / (2 * PLATFORM.halfW + 30), c.height / (2 * PLATFORM.halfL + 30));
      return [c.width / 2 + (x - this.center[0]) * s, c.height / 2 - (y - this.center[1]) * s, s];
    }
    foot(cx, highlight, lifted) {
      const ctx = this.ctx;
      const [x, y, s] = this.px(cx, 0);
      ctx.beginPath();
      ctx.ellipse(x, y, FOOT.halfW * s, FOOT.halfL * s, 0, 0, 2 * Math.PI);
      if (highlight) {
        ctx.fillStyle = "rgba(90, 169, 255, 0.18)"; ctx.fill();
        ctx.strokeStyle = "#5aa9ff"; ctx.lineWidth = 3 * this.dpr; ctx.setLineDash([]);
      } else {
        ctx.strokeStyle = lifted ? "rgba(147, 164, 181, 0.35)" : "#4d6278";
        ctx.lineWidth = 2 * this.dpr; ctx.setLineDash(lifted ? [6 * this.dpr, 6 * this.dpr] : []);
      }
      ctx.stroke(); ctx.setLineDash([]);
    }
    baseScale() {  // device px per mm at zoom 1 (the whole board)
      const c = this.canvas;
      return Math.min(c.width / (2 * PLATFORM.halfW + 30), c.height / (2 * PLATFORM.halfL + 30));
    }
    // Followed views: where to look and how close, eased so the view never jumps; it
    // widens fast (the dot must not leave it) and narrows slowly.
    followStep() {
      const now = performance.now() / 1000;
      const dt = this.lastDraw === null ? 1 : Math.min(1, now - this.lastDraw);
      this.lastDraw = now;
      let goalCenter = [0, 0], goalZoom = 1;
      if (this.dot) {
        const single = this.stance === "single-left" || this.stance === "single-right";
        let half = single ? FOLLOW_MIN_HALF_MM.single : FOLLOW_MIN_HALF_MM.other;
        if (this.target) {
          goalCenter = [this.target.x_mm, this.target.y_mm];
          half = Math.max(half, this.target.radius_mm * 2);
        } else if (this.game && typeof Games !== "undefined") {  // the game's whole field
          const field = Games.extent(this.game);
          goalCenter = field.center; half = Math.max(half, field.half);
        } else {
          const k = 1 - Math.exp(-dt / 1.5);
          this.focus = this.focus ? [this.focus[0] + k * (this.dot[0] - this.focus[0]), this.focus[1] + k * (this.dot[1] - this.focus[1])] : [...this.dot];
          goalCenter = this.focus;
        }
        for (const [, x, y] of [...this.trail, [0, ...this.dot]]) {
          half = Math.max(half, 1.25 * Math.abs(x - goalCenter[0]) + 6, 1.25 * Math.abs(y - goalCenter[1]) + 6);
        }
        const c = this.canvas;
        goalZoom = Math.min(FOLLOW_MAX_ZOOM, Math.max(1, Math.min(c.width, c.height) / 2 / half / this.baseScale()));
      } else {
        this.focus = null;
      }
      const kz = 1 - Math.exp(-dt / (goalZoom < this.zoom ? 0.12 : 0.6));
      this.zoom += kz * (goalZoom - this.zoom);
      const kc = 1 - Math.exp(-dt / 0.25);
      this.center = [this.center[0] + kc * (goalCenter[0] - this.center[0]), this.center[1] + kc * (goalCenter[1] - this.center[1])];
    }
    // The whole board, small, in a corner: where on the board the zoomed view is.
    inset() {
      const { ctx, canvas } = this;
      const d = this.dpr;
      const w = Math.min(canvas.width * 0.24, 120 * d), sc = w / (2 * PLATFORM.halfW);
      const h = 2 * PLATFORM.halfL * sc, x0 = 8 * d, y0 = 8 * d;
      const at = (x, y) => [x0 + (x + PLATFORM.halfW) * sc, y0 + (PLATFORM.halfL - y) * sc];
      ctx.fillStyle = "rgba(15, 23, 32, 0.85)"; ctx.strokeStyle = "#4d6278"; ctx.lineWidth = 1 * d;
      ctx.beginPath(); ctx.roundRect(x0, y0, w, h, 4 * d); ctx.fill(); ctx.stroke();
      if (this.stance) {
        for (const side of [-1, 1]) {
          const [fx, fy] = at(side * FOOT.x, 0);
          ctx.beginPath(); ctx.ellipse(fx, fy, FOOT.halfW * sc, FOOT.halfL * sc, 0, 0, 2 * Math.PI); ctx.stroke();
        }
      }
      const s = this.px(0, 0)[2];
      const halfX = canvas.width / 2 / s, halfY = canvas.height / 2 / s;
      const [rx, ry] = at(this.center[0] - halfX, this.center[1] + halfY);
      ctx.strokeStyle = "#e8eef4"; ctx.strokeRect(rx, ry, 2 * halfX * sc, 2 * halfY * sc);
      if (this.dot) {
        const [px, py] = at(this.dot[0], this.dot[1]);
        ctx.fillStyle = "#3ecf8e"; ctx.beginPath(); ctx.arc(px, py, 2.5 * d, 0, 2 * Math.PI); ctx.fill();
      }
    }
    draw() {
      // a wobble trial: the deck as a level (web/static/js/level.js) instead of the board
      if (this.wobble && typeof Level !== "undefined") { Level.drawView(this); return; }
      const { ctx, canvas } = this;
      const d = this.dpr;
      if (this.follow) this.followStep();
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      const [x0, y0, s] = this.px(-PLATFORM.halfW, PLATFORM.halfL);
      ctx.fillStyle = "#1d2a37"; ctx.strokeStyle = "#2f4154"; ctx.lineWidth = 2 * d;
      ctx.beginPath(); ctx.roundRect(x0, y0, 2 * PLATFORM.halfW * s, 2 * PLATFORM.halfL * s, 14 * s); ctx.fill(); ctx.stroke();
      const [cx, cy] = this.px(0, 0);
      ctx.strokeStyle = "#2a3949"; ctx.lineWidth = 1 * d; ctx.beginPath();
      ctx.moveTo(cx, y0); ctx.lineTo(cx, y0 + 2 * PLATFORM.halfL * s);
      ctx.moveTo(x0, cy); ctx.lineTo(x0 + 2 * PLATFORM.halfW * s, cy); ctx.stroke();
      ctx.fillStyle = "#3b5068";
      for (const [x, y] of CELLS) { const [px, py] = this.px(x, y); ctx.beginPath(); ctx.arc(px, py, 7 * s, 0, 2 * Math.PI); ctx.fill(); }
      if (this.stance) {
        const left = this.stance === "single-left", right = this.stance === "single-right";
        this.foot(-FOOT.x, left, right);
        this.foot(FOOT.x, right, left);
      }
      if (this.target) {
        const [tx, ty, ts] = this.px(this.target.x_mm, this.target.y_mm);
        ctx.beginPath(); ctx.arc(tx, ty, this.target.radius_mm * ts, 0, 2 * Math.PI);
        ctx.fillStyle = this.target.inside ? "rgba(62, 207, 142, 0.22)" : "rgba(245, 165, 36, 0.16)";
        ctx.fill(); ctx.strokeStyle = this.target.inside ? "#3ecf8e" : "#f5a524"; ctx.lineWidth = 3 * d; ctx.stroke();
      }
      const gameText = this.game && typeof Games !== "undefined" ? Games.draw(this, ctx) : null;
      if (this.path && this.path.length > 1) {
        ctx.strokeStyle = "rgba(62, 207, 142, 0.6)"; ctx.lineWidth = 1.5 * d; ctx.beginPath();
        this.path.forEach(([x, y], i) => { const [px, py] = this.px(x, y); if (i) ctx.lineTo(px, py); else ctx.moveTo(px, py); });
        ctx.stroke();
      }
      const trail = this.trail;
      if (trail.length > 1) {
        const tNow = trail[trail.length - 1][0];
        ctx.lineCap = "round"; ctx.lineWidth = 4 * d;
        for (let i = 1; i < trail.length; i++) {
          const a = Math.max(0, 1 - (tNow - trail[i][0]) / this.trailS);
          ctx.strokeStyle = `rgba(62, 207, 142, ${a * 0.85})`;
          const [ax, ay] = this.px(trail[i - 1][1], trail[i - 1][2]);
          const [bx, by] = this.px(trail[i][1], trail[i][2]);
          ctx.beginPath(); ctx.moveTo(ax, ay); ctx.lineTo(bx, by); ctx.stroke();
        }
      }
      const [, , sc] = this.px(0, 0);
      if (this.zoom > 1.01) {  // a scale bar: magnified views must not look like big sway
        const mm = [2, 5, 10, 20, 50, 100].find((v) => v * sc >= canvas.width / 8) || 100;
        const x1 = canvas.width - 16 * d - mm * sc, y1 = canvas.height - 16 * d;
        ctx.strokeStyle = "#e8eef4"; ctx.lineWidth = 3 * d; ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(x1 + mm * sc, y1); ctx.stroke();
        ctx.fillStyle = "#e8eef4"; ctx.font = `${13 * d}px system-ui, sans-serif`; ctx.textAlign = "right";
        ctx.fillText(`${mm} mm (×${this.zoom.toFixed(1)})`, x1 + mm * sc, y1 - 7 * d);
      }
      if (this.zoom > 1.5) this.inset();
      const dotR = Math.min(DOT.maxPx, Math.max(DOT.minPx, DOT.mm * sc / d)) * d;
      let dotPx = null;
      if (this.dot) {
        const [px, py] = this.px(this.dot[0], this.dot[1]);
        ctx.fillStyle = "#ffffff"; ctx.beginPath(); ctx.arc(px, py, dotR, 0, 2 * Math.PI); ctx.fill();
        ctx.fillStyle = "#3ecf8e"; ctx.beginPath(); ctx.arc(px, py, dotR * 0.77, 0, 2 * Math.PI); ctx.fill();
        dotPx = [px / d, py / d];
      }
      this.shown = {
        pxPerMm: sc / d, zoom: this.zoom, dotMm: this.dot ? [...this.dot] : null, dotPx,
        dotRadiusPx: dotR / d, targetRadiusPx: this.target ? this.target.radius_mm * sc / d : null,
        game: this.game ? this.game.task : null, gameText,
      };
    }
  }

  // Plays live frames back smoothly: frames arrive in batches ~20 times a second; the dot
  // is drawn at display rate at the station time (now - delay), interpolated between frames.
  class Player {
    constructor(view, delayS = 0.07) {
      this.view = view; this.delay = delayS; this.frames = []; this.offset = null;
      const loop = () => { this.tick(); requestAnimationFrame(loop); };
      requestAnimationFrame(loop);
    }
    push(ts, cops) {
      const now = performance.now() / 1000;
      const newest = ts[ts.length - 1];
      const off = newest - now;  // station clock minus page clock, at arrival
      this.offset = this.offset === null || off > this.offset || off < this.offset - 0.5 ? off : this.offset + 0.02 * (off - this.offset);
      for (let i = 0; i < ts.length; i++) this.frames.push([ts[i], cops[i]]);
      while (this.frames.length > 400) this.frames.shift();
    }
    clear() { this.frames = []; this.view.trail = []; this.view.dot = null; }
    tick() {
      const v = this.view;
      if (this.offset !== null && this.frames.length) {
        const t = performance.now() / 1000 + this.offset - this.delay;
        const f = this.frames;
        let i = f.length - 1;
        while (i > 0 && f[i][0] > t) i--;
        const a = f[i], b = f[Math.min(i + 1, f.length - 1)];
        let p = a[1];
        if (a[1] && b[1] && b[0] > a[0] && t > a[0]) {
          const k = Math.min(1, (t - a[0]) / (b[0] - a[0]));
          p = [a[1][0] + k * (b[1][0] - a[1][0]), a[1][1] + k * (b[1][1] - a[1][1])];
        }
        v.dot = p;
        v.trail = [];
        for (let j = 0; j <= i; j++) if (f[j][1] && t - f[j][0] <= v.trailS) v.trail.push([f[j][0], f[j][1][0], f[j][1][1]]);
        if (p) v.trail.push([t, p[0], p[1]]);
        while (f.length > 2 && t - f[0][0] > v.trailS + 1) f.shift();
      }
      v.draw();
    }
  }
  return { View, Player, PLATFORM, views };
})();
