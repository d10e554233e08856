// The watch view (/watch, no login): only the dot on the board, from /api/watch (frame
// times and COP, nothing else), drawn by the one board renderer, zoomed to the sway.
"use strict";
(() => {
  const view = new BoardView.View(document.getElementById("board"), { follow: true });
  const player = new BoardView.Player(view);
  LiveStream.pill(document.getElementById("conn"));
  LiveStream.on("frames", (msg) => {
    player.push(msg.frames.t, msg.frames.cop_live_mm);
    if (!msg.cop_mm) player.clear();
  });
})();
