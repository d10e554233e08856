// Station settings (name, default hold, demo, retention, backups; hold thresholds read-only),
// users, API tokens, login sessions, the security log and the role table; every change goes
// through the admin JSON API.
"use strict";
(() => {
  const D = BS.data;
  const $ = (id) => document.getElementById(id);
  for (const r of D.roles) $("u-role").append(BS.h(`<option>${r}</option>`));
  for (const r of D.token_roles) $("k-role").append(BS.h(`<option>${r}</option>`));
  $("u-role").value = "coach"; $("k-role").value = "coach";

  async function act(fn, okMsg) {
    try { await fn(); if (okMsg) BS.toast(okMsg, "ok"); await reload(); } catch (e) { BS.toast(e.message, "bad"); }
  }
  function renderUsers(users) {
    const tbody = $("users").querySelector("tbody");
    tbody.replaceChildren();
    for (const u of users) {
      const tr = BS.h(`<tr data-user="${BS.esc(u.username)}"><td>${BS.esc(u.username)}</td><td></td><td></td><td></td></tr>`);
      const role = BS.h(`<select aria-label="role of ${BS.esc(u.username)}">${D.roles.map((r) => `<option ${r === u.role ? "selected" : ""}>${r}</option>`).join("")}</select>`);
      role.addEventListener("change", () => act(() => BS.api("PATCH", `/api/users/${encodeURIComponent(u.username)}`, { role: role.value }), "Role changed."));
      const active = BS.h(`<input type="checkbox" ${u.active ? "checked" : ""} aria-label="${BS.esc(u.username)} active" style="width:auto">`);
      active.addEventListener("change", () => act(() => BS.api("PATCH", `/api/users/${encodeURIComponent(u.username)}`, { active: active.checked })));
      const pw = BS.h('<button class="btn btn-ghost btn-small">Password</button>');
      pw.addEventListener("click", () => {
        const p = prompt(`New password for ${u.username} (at least 8 characters)`);
        if (p) act(() => BS.api("PATCH", `/api/users/${encodeURIComponent(u.username)}`, { password: p }), "Password changed.");
      });
      const del = BS.h('<button class="btn btn-ghost btn-small">Delete</button>');
      del.addEventListener("click", () => { if (confirm(`Delete user ${u.username}?`)) act(() => BS.api("DELETE", `/api/users/${encodeURIComponent(u.username)}`), "User deleted."); });
      tr.children[1].append(role); tr.children[2].append(active); tr.children[3].append(pw, del);
      tbody.append(tr);
    }
  }
  function renderTokens(tokens) {
    const tbody = $("tokens").querySelector("tbody");
    tbody.replaceChildren();
    if (!tokens.length) tbody.append(BS.h('<tr><td colspan="4" class="empty">No tokens.</td></tr>'));
    for (const t of tokens) {
      const tr = BS.h(`<tr><td>${BS.esc(t.name)}</td><td>${BS.esc(t.role)}</td><td>${BS.dateTime(t.last_used_at)}</td><td></td></tr>`);
      const del = BS.h('<button class="btn btn-ghost btn-small">Revoke</button>');
      del.addEventListener("click", () => { if (confirm(`Revoke token ${t.name}?`)) act(() => BS.api("DELETE", `/api/tokens/${encodeURIComponent(t.uid)}`), "Token revoked."); });
      tr.children[3].append(del);
      tbody.append(tr);
    }
  }
  function renderSessions(sessions) {
    const tbody = $("sessions").querySelector("tbody");
    tbody.replaceChildren();
    if (!sessions.length) tbody.append(BS.h('<tr><td colspan="7" class="empty">Nobody is logged in.</td></tr>'));
    let previous = null;
    for (const s of sessions) {  // sorted by user: the name once per user
      const who = s.username === previous ? "" : BS.esc(s.username);
      previous = s.username;
      const kind = s.kind === "kiosk" ? "kiosk" : "browser";
      const tr = BS.h(`<tr data-session="${BS.esc(s.uid)}"><td>${who}</td><td>${kind}${s.current ? " (this one)" : ""}</td><td>${BS.dateTime(s.created_at)}</td><td>${BS.dateTime(s.last_seen_at)}</td><td>${BS.dateTime(s.expires_at)}</td><td title="${BS.esc(s.user_agent || "")}">${BS.esc(s.address || "")}</td><td></td></tr>`);
      const end = BS.h(`<button class="btn btn-ghost btn-small" aria-label="end ${BS.esc(s.username)}'s ${kind} session">End</button>`);
      end.addEventListener("click", () => {
        const question = s.current ? "End your own session? You will be logged out." : `End this session of ${s.username}?`;
        if (!confirm(question)) return;
        act(() => BS.api("DELETE", `/api/login-sessions/${encodeURIComponent(s.uid)}`), "Session ended.")
          .then(() => { if (s.current) location.href = "/login"; });
      });
      tr.children[6].append(end);
      tbody.append(tr);
    }
  }
  function eventRow(e) {
    return BS.h(`<tr><td>${BS.dateTime(e.at)}</td><td>${BS.esc(e.kind.replaceAll("_", " "))}</td><td>${BS.esc(e.actor || "")}</td><td>${BS.esc(e.subject || "")}</td><td>${BS.esc(e.address || "")}</td><td>${BS.esc(e.detail || "")}</td></tr>`);
  }
  let oldestEvent = null;
  function renderLog(events, append) {
    const tbody = $("seclog").querySelector("tbody");
    if (!append) tbody.replaceChildren();
    if (!append && !events.length) tbody.append(BS.h('<tr><td colspan="6" class="empty">Nothing yet.</td></tr>'));
    for (const e of events) tbody.append(eventRow(e));
    if (events.length) oldestEvent = events[events.length - 1].id;
    $("seclog-more").hidden = events.length === 0;
  }
  $("seclog-more").addEventListener("click", async () => {
    try { renderLog((await BS.api("GET", `/api/security-log?before=${oldestEvent}`)).events, true); } catch (e) { BS.toast(e.message, "bad"); }
  });
  async function reload() {
    renderUsers((await BS.api("GET", "/api/users")).users);
    renderTokens((await BS.api("GET", "/api/tokens")).tokens);
    renderSessions((await BS.api("GET", "/api/login-sessions")).sessions);
    renderLog((await BS.api("GET", "/api/security-log")).events, false);
  }
  $("u-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(() => BS.api("POST", "/api/users", { username: $("u-name").value.trim(), role: $("u-role").value, password: $("u-pass").value }), "User added.")
      .then(() => { $("u-name").value = ""; $("u-pass").value = ""; });
  });
  $("k-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const t = await BS.api("POST", "/api/tokens", { name: $("k-name").value.trim(), role: $("k-role").value });
      $("k-secret").hidden = false;
      $("k-secret").innerHTML = `Copy this token now, it is not shown again:<br><code style="overflow-wrap:anywhere">${BS.esc(t.token)}</code>`;
      $("k-name").value = "";
      await reload();
    } catch (e) { BS.toast(e.message, "bad"); }
  });
  // role table
  const roles = ["admin", "physio", "coach", "kiosk"];
  $("caps").querySelector("thead").append(BS.h(`<tr><th>Capability</th>${roles.map((r) => `<th>${r}</th>`).join("")}</tr>`));
  for (const [cap, allowed] of Object.entries(D.capabilities)) {
    $("caps").querySelector("tbody").append(BS.h(`<tr><td title="${BS.esc(D.capability_help[cap] || "")}">${BS.esc(D.capability_help[cap] || cap)}</td>${roles.map((r) => `<td>${allowed.includes(r) ? "✓" : ""}</td>`).join("")}</tr>`));
  }
  // station settings: one field per key, the file's value under it; only changed keys are sent
  const LABELS = {
    "station.name": "Station name",
    "station.default_duration_s": "Default hold (s, 0 = the protocol's)",
    "board.demo": "Demo athletes",
    "storage.raw_frames_months": "Keep raw frames (months, 0 = forever)",
    "storage.backup_dir": "Backup folder ('' = data directory's backups/)",
    "storage.backup_keep": "Backups to keep",
  };
  const shown = (v) => (typeof v === "boolean" ? (v ? "on" : "off") : (v === "" ? "''" : String(v)));
  let station = D.station;
  function fieldOf(s) {
    const id = `s-${s.name.replace(".", "-")}`;
    const input = s.kind === "bool"
      ? BS.h(`<input type="checkbox" id="${id}" style="width:auto" ${s.value ? "checked" : ""}>`)
      : BS.h(`<input id="${id}" ${s.kind === "int" ? 'type="number" inputmode="numeric" step="1"' : 'maxlength="300"'}>`);
    if (s.kind !== "bool") input.value = s.value;
    input.dataset.name = s.name;
    const box = BS.h(`<div class="setting" data-setting="${BS.esc(s.name)}"><label for="${id}">${BS.esc(LABELS[s.name] || s.name)}</label><div class="setting-input"></div><p class="muted small"></p><p class="field-error error small" role="alert" hidden></p></div>`);
    box.querySelector(".setting-input").append(input);
    const note = box.querySelector("p.muted");
    note.textContent = `${s.from === "page" ? "Set here" : "From the config file"} · file: ${shown(s.file_value)} · takes effect ${s.takes_effect}`;
    if (s.from === "page") {
      const reset = BS.h('<button class="btn btn-ghost btn-small" type="button">Use the file\'s value</button>');
      reset.addEventListener("click", () => save({ [s.name]: null }, "Back to the file's value."));
      note.append(" ", reset);
    }
    return box;
  }
  function renderStation(view) {
    station = view;
    $("s-fields").replaceChildren(...view.settings.map(fieldOf));
    const tbody = $("hold").querySelector("tbody");
    tbody.replaceChildren(...view.hold.map((h) => BS.h(`<tr><td><code>${BS.esc(h.name)}</code></td><td>${BS.esc(String(h.value))}${h.set_in_file ? " (file)" : ""}</td><td style="text-align:left">${BS.esc(h.doc)}</td></tr>`)));
    $("hold-count").textContent = view.hold.length;
    const demo = view.demo, info = demo.history;
    $("demo-state").textContent = demo.athletes
      ? `${demo.athletes} demo athletes` + (info && info.trials != null ? `, with ${info.trials} trials of made-up history (${info.sessions} sessions).` : ".") + " Removing deletes them and all their trials, and switches the demo off."
      : "No demo data on this station.";
    $("demo-remove").hidden = !demo.athletes;
  }
  function clearErrors() {
    for (const p of $("s-fields").querySelectorAll(".field-error")) { p.hidden = true; p.textContent = ""; }
  }
  async function save(changes, okMsg) {
    clearErrors();
    try {
      renderStation(await BS.api("PATCH", "/api/settings", changes));
      BS.toast(okMsg, "ok");
      if ("station.name" in changes) document.querySelector(".brand").textContent = station.settings.find((s) => s.name === "station.name").value;
      await reload();
    } catch (e) {
      const named = station.settings.find((s) => e.message.startsWith(s.name));  // errors name the key
      const box = named && $("s-fields").querySelector(`[data-setting="${CSS.escape(named.name)}"] .field-error`);
      if (box) { box.textContent = e.message; box.hidden = false; }
      BS.toast(e.message, "bad");
    }
  }
  $("s-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const changes = {};
    for (const s of station.settings) {
      const input = $("s-fields").querySelector(`[data-name="${CSS.escape(s.name)}"]`);
      let value = s.kind === "bool" ? input.checked : input.value;
      if (s.kind === "int") value = value.trim() === "" || !/^-?\d+$/.test(value.trim()) ? value : Number(value);
      if (value !== s.value) changes[s.name] = value;
    }
    if (!Object.keys(changes).length) { BS.toast("Nothing changed.", "ok"); return; }
    save(changes, "Settings saved.");
  });
  $("demo-remove").addEventListener("click", async () => {
    if (!confirm("Remove the demo athletes and all their trials? The demo is switched off.")) return;
    try {
      const r = await BS.api("POST", "/api/demo/remove");
      renderStation(r);
      BS.toast(`Removed ${r.removed.athletes} demo athletes and ${r.removed.trials} trials.`, "ok");
      await reload();
    } catch (e) { BS.toast(e.message, "bad"); }
  });
  renderStation(D.station);
  renderUsers(D.users); renderTokens(D.tokens); renderSessions(D.sessions); renderLog(D.security_log, false);
})();
