// The one client of the live stream (GET /api/live, Server-Sent Events): every page that
// streams subscribes here instead of opening its own EventSource.
//
// - one connection per page, opened by the first subscriber;
// - resume: the browser's own reconnect sends Last-Event-ID itself (the station's
//   `retry: 2000`); when the browser gives up (the station answered with an error, e.g. 503
//   "too many live streams" or 401 after a logout) this client reconnects with back-off
//   (1, 2, 4 … 30 s) and resumes with ?last_event_id= from the last message it saw;
// - `missed`: the messages the station had already dropped when this page caught up
//   (its `gap` events), summed over the page's life;
// - subscribe: LiveStream.on(kind, fn) for "frames", "trial_result", … or "*" for every
//   message; LiveStream.onStatus(fn) for {state, missed, retryInS}; LiveStream.pill(el) keeps
//   a status pill ("connecting…", "live", "reconnecting…") up to date.
"use strict";
const LiveStream = (() => {
  // a page may name another stream of the same shape: <body data-live-stream="/api/watch">
  const URL_PATH = document.body.dataset.liveStream || "/api/live";
  const BACKOFF_MIN_MS = 1000;
  const BACKOFF_MAX_MS = 30000;
  const handlers = new Map();   // kind -> Set of functions
  const statusHandlers = new Set();
  let source = null;
  let lastId = null;            // id of the newest message seen: where a reconnect resumes
  let attempts = 0;             // failed connections in a row: the back-off's exponent
  let retryTimer = null;
  let status = { state: "connecting", missed: 0, retryInS: null };

  function setStatus(change) {
    status = { ...status, ...change };
    for (const fn of statusHandlers) fn(status);
  }

  function dispatch(msg) {
    for (const kind of [msg.kind, "*"]) for (const fn of handlers.get(kind) || []) fn(msg);
  }

  function open() {
    retryTimer = null;
    const url = lastId === null ? URL_PATH : `${URL_PATH}?last_event_id=${encodeURIComponent(lastId)}`;
    const es = new EventSource(url);
    source = es;
    es.onopen = () => { attempts = 0; setStatus({ state: "live", retryInS: null }); };
    es.onmessage = (ev) => {
      if (ev.lastEventId) lastId = ev.lastEventId;
      dispatch(JSON.parse(ev.data));
    };
    es.addEventListener("gap", (ev) => setStatus({ missed: status.missed + (Number(ev.data) || 0) }));
    es.onerror = () => {
      if (es.readyState !== EventSource.CLOSED) {  // the browser retries (and resumes) itself
        setStatus({ state: "reconnecting", retryInS: null });
        return;
      }
      es.close();
      source = null;
      const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempts);
      attempts += 1;
      setStatus({ state: "reconnecting", retryInS: delay / 1000 });
      retryTimer = setTimeout(open, delay);
    };
  }

  function connect() {
    if (source === null && retryTimer === null) open();
  }

  // Subscribe to messages of one kind ("*": all); returns the function that unsubscribes.
  function on(kind, fn) {
    if (!handlers.has(kind)) handlers.set(kind, new Set());
    handlers.get(kind).add(fn);
    connect();
    return () => handlers.get(kind).delete(fn);
  }

  // Follow the connection's state; fn is called at once with the current one.
  function onStatus(fn) {
    statusHandlers.add(fn);
    fn(status);
    return () => statusHandlers.delete(fn);
  }

  const PILL = {
    connecting: ["connecting…", "pill pill-wait"],
    live: ["live", "pill pill-ok"],
    reconnecting: ["reconnecting…", "pill pill-wait"],
  };
  // Show the connection's state in a pill element (kiosk, physio, status, live view).
  function pill(el) {
    return onStatus((s) => { [el.textContent, el.className] = PILL[s.state]; });
  }

  return {
    on, onStatus, pill,
    get missed() { return status.missed; },
    get status() { return status; },
  };
})();
