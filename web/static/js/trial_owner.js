// One board, several screens: who owns the running trial, and taking it over.
// The server names a trial's owner (hold.owner.label: "Jordan Smith — started at the kiosk");
// starting or stopping another screen's trial is refused (409) until the person here
// confirms, then sent again with takeover: true, and the owner's screen is told
// (hold.aborted_by / result.aborted_by). Used by kiosk.js and physio.js.
"use strict";
const TrialOwner = (() => {
  const ABORTS = {
    operator: () => "Stopped",
    operator_took_over: (by) => by ? `Stopped: another screen took over the board (now: ${by})` : "Stopped: another screen took over the board",
    armed_timeout: () => "Nobody stepped on: the trial expired",
    automatic: () => "Stopped by the station",
    board_stopped_answering: () => "The board stopped answering",
  };
  // What an aborted trial's screen says (the status or the result: abort_reason, aborted_by).
  function abortText(x) {
    const say = ABORTS[x && x.abort_reason] || ABORTS.operator;
    return say(x && x.aborted_by);
  }

  // Requests sent and not answered yet: until a start is answered this screen does not know
  // the run it made, and the stream's first frames of it must not read "Board in use".
  let pending = 0;

  // POST to a trial endpoint; when another screen owns the trial, ask before taking over.
  async function send(url, body, what) {
    pending += 1;
    try {
      return await sendOnce(url, body, what);
    } finally {
      pending -= 1;
    }
  }
  async function sendOnce(url, body, what) {
    try {
      return await BS.api("POST", url, body);
    } catch (e) {
      if (e.status !== 409) throw e;
      const cur = await BS.api("GET", "/api/trials/current").catch(() => null);
      const st = cur && cur.status;
      const running = st && !["complete", "failed", "aborted"].includes(st.state);
      if (!running || cur.yours || !st.owner || st.demo) throw e;
      if (!window.confirm(`The board is in use: ${st.owner.label}.\n${what} anyway? That screen will be told.`)) return null;
      return BS.api("POST", url, { ...body, takeover: true });
    }
  }

  // The line under a state banner that names who has the board (made on first use).
  function line(banner, hold, mine) {
    if (pending && !mine) return;  // maybe ours: the answer will say
    let el = document.getElementById("owner-line");
    if (!el) {
      el = document.createElement("p");
      el.id = "owner-line";
      el.className = "owner-line muted";
      el.setAttribute("role", "status");
      banner.after(el);
    }
    const running = hold && !["complete", "failed", "aborted"].includes(hold.state);
    el.hidden = !(hold && hold.owner && running);
    if (!el.hidden) el.textContent = `${mine ? "Your trial" : "Board in use"}: ${hold.owner.label}`;
    el.dataset.mine = mine ? "1" : "0";
  }
  return { abortText, send, line };
})();
