// The plain live view (/live): the centre of pressure on the board, weight, COP, raw counts and
// force per cell, from the live stream (LiveStream), drawn by the one board renderer (BoardView).
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const view = new BoardView.View($("board"), { trailS: 2.0, follow: true });
  const player = new BoardView.Player(view);

  function fmt(v, d = 1) { return v === null || v === undefined ? "–" : v.toFixed(d); }

  LiveStream.pill($("conn"));
  LiveStream.on("frames", (msg) => {
    const f = msg.frames;
    player.push(f.t, f.cop_live_mm);
    if (!msg.cop_mm) player.clear();
    const kg = Facts.kg(msg.force_n);
    $("kg").textContent = kg === null ? "–" : kg.toFixed(1);
    $("weightbar").style.width = msg.force_n ? `${Math.min(100, kg / 1.5)}%` : "0";
    $("copx").textContent = msg.cop_mm ? `${fmt(msg.cop_mm[0])} mm` : "–";
    $("copy").textContent = msg.cop_mm ? `${fmt(msg.cop_mm[1])} mm` : "–";
    $("calib").hidden = msg.calibrated;
    const counts = f.counts[f.counts.length - 1];
    $("cells").innerHTML = counts.map((c, i) => `<tr><td>${Facts.cells[i].label}</td><td>${c}</td><td>${fmt(msg.cell_forces_n[i])}</td></tr>`).join("");
  });

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
