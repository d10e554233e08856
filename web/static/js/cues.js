// Sound cues at the board (Web Audio, no files): countdown ticks, the start and the end of a
// hold, leaving the drill's target, a touch-down. An athlete looking at the wall, or with eyes
// closed, hears what the screen says. Off by default on phones (a phone beside the board is
// usually someone's own), on elsewhere; a toggle button remembers the choice on this screen.
// The words at the board are here too (PROMPTS, prompt): the kiosk and the physio's banner
// say the same thing at the same moment ("Now lift your RIGHT foot").
"use strict";
const Cues = (() => {
  const KEY = "bs-sound";
  const phone = window.matchMedia("(pointer: coarse) and (max-width: 700px)").matches;
  let on = localStorage.getItem(KEY) === null ? !phone : localStorage.getItem(KEY) === "on";
  let audio = null;

  // Browsers start audio only after a gesture: the first tap anywhere unlocks it.
  function unlock() {
    if (!audio) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      audio = new Ctx();
    }
    if (audio.state === "suspended") audio.resume();
  }
  document.addEventListener("pointerdown", unlock, { capture: true });

  // One tone: frequency (Hz), start offset and length (s), loudness (0–1).
  function tone(freq, at, length, gain = 0.25) {
    const t0 = audio.currentTime + at;
    const osc = audio.createOscillator(), amp = audio.createGain();
    osc.type = "sine"; osc.frequency.value = freq;
    amp.gain.setValueAtTime(0, t0);
    amp.gain.linearRampToValueAtTime(gain, t0 + 0.01);
    amp.gain.exponentialRampToValueAtTime(0.001, t0 + length);
    osc.connect(amp).connect(audio.destination);
    osc.start(t0); osc.stop(t0 + length + 0.02);
  }
  const SOUNDS = {
    tick: () => tone(660, 0, 0.12),
    start: () => { tone(880, 0, 0.35, 0.3); },
    end: () => { tone(660, 0, 0.18); tone(990, 0.2, 0.35); },
    leave: () => tone(330, 0, 0.15, 0.2),
    touchdown: () => { tone(220, 0, 0.25, 0.35); tone(165, 0.28, 0.4, 0.35); },
  };
  function play(name) {
    if (!on || !audio || audio.state !== "running") return;
    SOUNDS[name]();
  }

  // A button that switches the cues on and off and says which they are.
  function toggle(button) {
    const paint = () => {
      button.textContent = on ? "Sound: on" : "Sound: off";
      button.setAttribute("aria-pressed", String(on));
    };
    button.addEventListener("click", () => { on = !on; localStorage.setItem(KEY, on ? "on" : "off"); unlock(); paint(); if (on) play("tick"); });
    paint();
  }
  // What the athlete is told in each state of a trial (the hold engine's states).
  const PROMPTS = Object.freeze({
    empty: "Step onto the board",
    on_board: "Stand still: weighing…",
    ready: "Ready: hold it…",
    countdown: "Get ready",
    holding: "Hold!",
    complete: "Done!",
    failed: "Trial over",
    aborted: "Stopped",
  });
  // The prompt for a trial's live status (hold) of `trial` (its spec: stance): on a single
  // leg, once weighed on both feet, "lift your foot". On a wobble board the station cannot see
  // the foot lift (the COP is the dome's contact): the athlete is told through ready and the
  // countdown too.
  function prompt(hold, trial) {
    const lifting = hold.state === "on_board" || (["ready", "countdown"].includes(hold.state) && trial && trial.surface === "wobble");
    if (lifting && trial && trial.stance.startsWith("single")) {
      if (!hold.body_weight_n) return "Stand still on both feet: weighing…";
      return trial.stance === "single-left" ? "Now lift your RIGHT foot" : "Now lift your LEFT foot";
    }
    return PROMPTS[hold.state] || hold.state;
  }
  return { play, toggle, prompt, PROMPTS, get on() { return on; } };
})();
