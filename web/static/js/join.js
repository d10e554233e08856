// The station's address for phones, shown beside its QR code (kiosk and status pages).
"use strict";
fetch("/api/address").then((r) => (r.ok ? r.json() : null)).then((a) => {
  const el = document.getElementById("join-url");
  if (el && a && a.preferred) el.textContent = a.preferred.replace(/\/$/, "") + (el.dataset.path || "");
}).catch(() => { /* the QR code alone still works */ });
