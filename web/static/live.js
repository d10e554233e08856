// Live view: subscribes to /api/live (Server-Sent Events) and draws the centre of pressure.
(() => {
  "use strict";
  const BOARD = { halfW: 250, halfL: 190 };   // drawn platform half-size (mm)
  const CELLS = [[-200, 150], [200, 150], [-200, -150], [200, -150]];
  const NAMES = ["front left", "front right", "back left", "back right"];
  const TRAIL_S = 2.0;
  const canvas = document.getElementById("board");
  const ctx = canvas.getContext("2d");
  const trail = [];          // [t, x, y]
  let latest = null;         // newest message
  const $ = (id) => document.getElementById(id);

  function resize() {
    const r = canvas.getBoundingClientRect();
    canvas.width = Math.round(r.width * devicePixelRatio);
    canvas.height = Math.round(r.height * devicePixelRatio);
  }
  window.addEventListener("resize", resize);
  resize();

  function toPx(x, y) {
    const s = Math.min(canvas.width / (2 * BOARD.halfW + 40), canvas.height / (2 * BOARD.halfL + 40));
    return [canvas.width / 2 + x * s, canvas.height / 2 - y * s, s];
  }

  function draw() {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const [x0, y0, s] = toPx(-BOARD.halfW, BOARD.halfL);
    ctx.fillStyle = "#1d2a37"; ctx.strokeStyle = "#2f4154"; ctx.lineWidth = 2 * devicePixelRatio;
    ctx.beginPath(); ctx.roundRect(x0, y0, 2 * BOARD.halfW * s, 2 * BOARD.halfL * s, 12 * s); ctx.fill(); ctx.stroke();
    ctx.strokeStyle = "#2a3949"; ctx.beginPath();
    const [cx, cy] = toPx(0, 0);
    ctx.moveTo(cx, y0); ctx.lineTo(cx, y0 + 2 * BOARD.halfL * s);
    ctx.moveTo(x0, cy); ctx.lineTo(x0 + 2 * BOARD.halfW * s, cy); ctx.stroke();
    ctx.fillStyle = "#3b5068";
    for (const [x, y] of CELLS) { const [px, py] = toPx(x, y); ctx.beginPath(); ctx.arc(px, py, 8 * s, 0, 2 * Math.PI); ctx.fill(); }
    if (trail.length) {
      const tNow = trail[trail.length - 1][0];
      ctx.lineCap = "round";
      for (let i = 1; i < trail.length; i++) {
        const a = 1 - (tNow - trail[i][0]) / TRAIL_S;
        ctx.strokeStyle = `rgba(62, 207, 142, ${Math.max(0, a) * 0.8})`;
        ctx.lineWidth = 3 * devicePixelRatio;
        const [ax, ay] = toPx(trail[i - 1][1], trail[i - 1][2]);
        const [bx, by] = toPx(trail[i][1], trail[i][2]);
        ctx.beginPath(); ctx.moveTo(ax, ay); ctx.lineTo(bx, by); ctx.stroke();
      }
      const last = trail[trail.length - 1];
      const [px, py] = toPx(last[1], last[2]);
      ctx.fillStyle = "#3ecf8e"; ctx.beginPath(); ctx.arc(px, py, 10 * devicePixelRatio, 0, 2 * Math.PI); ctx.fill();
    }
    requestAnimationFrame(draw);
  }
  requestAnimationFrame(draw);

  function fmt(v, d = 1) { return v === null || v === undefined ? "–" : v.toFixed(d); }

  function onMessage(msg) {
    latest = msg;
    const f = msg.frames;
    for (let i = 0; i < f.t.length; i++) {
      const p = f.cop_live_mm[i];
      if (p) trail.push([f.t[i], p[0], p[1]]);
    }
    if (!msg.cop_mm) trail.length = 0;
    while (trail.length && trail[trail.length - 1][0] - trail[0][0] > TRAIL_S) trail.shift();
    $("kg").textContent = msg.force_n === null ? "–" : (msg.force_n / 9.80665).toFixed(1);
    $("weightbar").style.width = msg.force_n ? `${Math.min(100, msg.force_n / 9.80665 / 1.5)}%` : "0";
    $("copx").textContent = msg.cop_mm ? `${fmt(msg.cop_mm[0])} mm` : "–";
    $("copy").textContent = msg.cop_mm ? `${fmt(msg.cop_mm[1])} mm` : "–";
    $("calib").hidden = msg.calibrated;
    const counts = f.counts[f.counts.length - 1];
    $("cells").innerHTML = counts.map((c, i) => `<tr><td>${NAMES[i]}</td><td>${c}</td><td>${fmt(msg.cell_forces_n[i])}</td></tr>`).join("");
  }

  function connect() {
    const es = new EventSource("/api/live");
    es.onopen = () => { $("conn").textContent = "live"; $("conn").className = "pill pill-ok"; };
    es.onerror = () => { $("conn").textContent = "reconnecting…"; $("conn").className = "pill pill-wait"; };
    es.onmessage = (ev) => onMessage(JSON.parse(ev.data));
  }
  connect();

  async function pollHealth() {
    try {
      const h = await (await fetch("/api/health")).json();
      $("rate").textContent = `${h.achieved_rate_hz.toFixed(1)} Hz`;
      $("disc").textContent = `${h.frames_discarded}`;
      const failing = h.acquisition.failing_cells || {};
      if (h.acquisition.board_error) {
        $("conn").textContent = "board error"; $("conn").className = "pill pill-bad";
      } else if (Object.keys(failing).length) {
        $("conn").textContent = `cell ${Object.keys(failing).join(", ")} not answering`;
        $("conn").className = "pill pill-bad";
      }
    } catch (e) { /* the stream's status shows the outage */ }
    setTimeout(pollHealth, 2000);
  }
  pollHealth();
})();
