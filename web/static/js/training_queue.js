// Today's training survives a reload: the kiosk keeps the queue (each step's protocol, trial,
// length and rest), the step a reload comes back to, the athlete and the training session in
// sessionStorage (this tab only: another kiosk or a closed tab starts afresh). A reload in
// the middle of a step picks up the running trial at its place in the queue; a reload in a
// rest arms the next step. Cleared when the queue ends, on Done, or when a test is picked.
"use strict";
const TrainingQueue = (() => {
  const KEY = "bs.training.queue";
  function save(st, index) {
    if (!st.protocol || st.protocol.id !== "training" || !st.athlete) { clear(); return; }
    const steps = st.queue.map((q) => ({ protocol: q.protocolId, trial: q.trial.id, rep: q.rep, of: q.of, duration_s: q.duration_s, rest_s: q.rest_s }));
    try {
      sessionStorage.setItem(KEY, JSON.stringify({ athlete_uid: st.athlete.uid, title: st.protocol.name, session_uid: st.sessionUid || null, index, steps }));
    } catch (e) { /* private mode: a reload starts afresh */ }
  }
  function clear() { try { sessionStorage.removeItem(KEY); } catch (e) { /* nothing kept */ } }
  // The kept queue with its trials from this page's protocols (null: none, or it no longer fits).
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
    return {
      athlete_uid: kept.athlete_uid, title: kept.title, sessionUid: kept.session_uid, index: kept.index, queue,
      // the running trial is this queue's step (its athlete, protocol and trial)
      matches: (s) => !!s && s.athlete_uid === kept.athlete_uid && s.protocol === step.protocolId && s.trial_id === step.trial.id,
    };
  }
  return { save, clear, load };
})();
