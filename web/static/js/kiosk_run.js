// A kiosk run survives a reload: today's training or a picked test, for a named athlete. The
// kiosk keeps the queue (each step's protocol, trial, length and rest), the step a reload
// comes back to, the athlete, the run's title and its session in sessionStorage (this tab
// only: another kiosk or a closed tab starts afresh). A reload in the middle of a step picks
// up the running trial at its place in the queue; a step that ended while the page was away
// shows its result; a reload in a rest arms the next step. Cleared when the queue ends, on
// Done, on Change test and when another athlete is picked; a guest's run is not kept.
"use strict";
const KioskRun = (() => {
  const KEY = "bs.kiosk.run";
  function save(st, index) {
    if (!st.protocol || !st.athlete) { clear(); return; }
    const steps = st.queue.map((q) => ({ protocol: q.protocolId || st.protocol.id, trial: q.trial.id, rep: q.rep, of: q.of, duration_s: q.duration_s, rest_s: q.rest_s }));
    try {
      sessionStorage.setItem(KEY, JSON.stringify({ athlete_uid: st.athlete.uid, run: st.protocol.id, title: st.protocol.name, session_uid: st.sessionUid || null, index, steps }));
    } catch (e) { /* private mode: a reload starts afresh */ }
  }
  function clear() { try { sessionStorage.removeItem(KEY); } catch (e) { /* nothing kept */ } }
  // The kept run with its trials from this page's protocols (null: none, or it no longer fits).
  function load(D) {
    let kept;
    try { kept = JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch (e) { kept = null; }
    if (!kept || !Array.isArray(kept.steps) || !(kept.index < kept.steps.length)) { clear(); return null; }
    if (!D.athletes.some((a) => a.uid === kept.athlete_uid)) { clear(); return null; }
    const queue = [];
    for (const s of kept.steps) {
      const p = D.protocols.find((x) => x.id === s.protocol);
      const trial = p && p.trials.find((t) => t.id === s.trial);
      if (!trial) { clear(); return null; }
      queue.push({ trial, rep: s.rep, of: s.of, protocolId: s.protocol, duration_s: s.duration_s, rest_s: s.rest_s });
    }
    const step = queue[kept.index];
    // "training" (today's list, several protocols) or the picked test's protocol
    const protocol = D.protocols.find((x) => x.id === kept.run) || { id: kept.run || "training", name: kept.title };
    return {
      athlete_uid: kept.athlete_uid, protocol, sessionUid: kept.session_uid, index: kept.index, queue,
      // the running trial is this queue's step (its athlete, protocol and trial)
      matches: (s) => !!s && s.athlete_uid === kept.athlete_uid && s.protocol === step.protocolId && s.trial_id === step.trial.id,
    };
  }
  return { save, clear, load };
})();
