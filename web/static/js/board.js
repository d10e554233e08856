// The one board renderer: the board seen from above on a canvas (platform outline, cells,
// feet with the stance foot highlighted, an optional target circle, the COP dot with a short
// fading trail, a replay's whole path). Used by the kiosk, the physio page, the athlete
// page's replay and the live view (/live). Board frame: x right, y forward, mm. The cells'
// positions are the station's (Facts, from station.geometry); the outline and the feet are
// only a picture.
"use strict";
const BoardView = (() => {
  const PLATFORM = Object.freeze({ halfW: 250, halfL: 190 });  // drawn platform half-size (mm)
  const CELLS = Facts.cells.map((c) => [c.x_mm, c.y_mm]);
  const FOOT = { x: 90, halfW: 45, halfL: 125 };

  class View {
    constructor(canvas, opts = {}) {
      this.canvas = canvas;
      this.ctx = canvas.getContext("2d");
      this.trailS = opts.trailS ?? 1.5;
      this.stance = null;      // "single-left" | "single-right" | "double" | "tandem" | null
      this.target = null;      // {x_mm, y_mm, radius_mm, inside}
      this.trail = [];         // [t, x, y]
      this.dot = null;         // [x, y]
      this.path = null;        // full trace for replay: [[x, y], ...]
      this.zoom = 1;           // > 1 magnifies around `center` (replay of a few mm of sway)
      this.center = [0, 0];
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
    draw() {
      const { ctx, canvas } = this;
      const d = this.dpr;
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
      if (this.zoom > 1.01) {  // a scale bar: magnified views must not look like big sway
        const [, , sc] = this.px(0, 0);
        const mm = [5, 10, 20, 50, 100].find((v) => v * sc >= canvas.width / 8) || 100;
        const x1 = canvas.width - 16 * d - mm * sc, y1 = canvas.height - 16 * d;
        ctx.strokeStyle = "#e8eef4"; ctx.lineWidth = 3 * d; ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(x1 + mm * sc, y1); ctx.stroke();
        ctx.fillStyle = "#e8eef4"; ctx.font = `${13 * d}px system-ui, sans-serif`; ctx.textAlign = "right";
        ctx.fillText(`${mm} mm (×${this.zoom.toFixed(1)})`, x1 + mm * sc, y1 - 7 * d);
      }
      if (this.dot) {
        const [px, py] = this.px(this.dot[0], this.dot[1]);
        ctx.fillStyle = "#ffffff"; ctx.beginPath(); ctx.arc(px, py, 13 * d, 0, 2 * Math.PI); ctx.fill();
        ctx.fillStyle = "#3ecf8e"; ctx.beginPath(); ctx.arc(px, py, 10 * d, 0, 2 * Math.PI); ctx.fill();
      }
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
  return { View, Player, PLATFORM };
})();
