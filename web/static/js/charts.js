// Trend charts on the vendored uPlot (web/static/vendor/uplot): a date axis, one point per
// day of testing (the day's mean, a whisker for its range), one or more series; a tooltip
// on hover and on tap (phones), sized to their box and redrawn when it resizes.
"use strict";
const Charts = (() => {
  const COLORS = ["#3ecf8e", "#5aa9ff", "#b48cff", "#f5a524", "#ef5350"];
  // One colour per leg everywhere: the stylesheet's --leg-left / --leg-right (L/R bars too).
  const css = getComputedStyle(document.documentElement);
  const LEG = {
    left: css.getPropertyValue("--leg-left").trim() || COLORS[1],
    right: css.getPropertyValue("--leg-right").trim() || COLORS[2],
  };
  const axis = { stroke: "#93a4b5", grid: { stroke: "#2a394966", width: 1 }, ticks: { stroke: "#2a3949" } };

  // series: [{label, t: [unix s], y, lo?, hi?, n?}]; merged on one x axis (nulls elsewhere).
  function merge(series) {
    const ts = [...new Set(series.flatMap((s) => s.t))].sort((a, b) => a - b);
    const index = new Map(ts.map((t, i) => [t, i]));
    const cols = series.map((s) => {
      const col = new Array(ts.length).fill(null);
      s.t.forEach((t, i) => { col[index.get(t)] = s.y[i]; });
      return col;
    });
    return [ts, ...cols];
  }

  const DAY = 86400;
  // At least a week of x axis around the days shown, so one day of tests is not spread over
  // years (from the data itself: uPlot widens a single x value its own way first).
  function xRangeOver(ts) {
    const lo = Math.min(...ts), hi = Math.max(...ts);
    const pad = Math.max(0, (7 * DAY - (hi - lo)) / 2);
    return () => [lo - pad - 0.03 * (hi - lo), hi + pad + 0.03 * (hi - lo)];
  }
  // The y axis spans the whiskers (each day's range), not only the means.
  function yRangeOver(values) {
    return (u, lo, hi) => {
      const vs = values.filter((v) => v !== null && v !== undefined);
      if (vs.length) { lo = Math.min(...vs); hi = Math.max(...vs); }
      if (lo === null || hi === null) return [0, 1];
      const span = hi - lo || Math.abs(hi) || 1;
      return [Math.max(0, lo - 0.15 * span), hi + 0.15 * span];
    };
  }
  const fmtDay = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
  const fmtDate = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });
  function dateLabels(u, splits) { return splits.map((s) => fmtDay.format(new Date(s * 1000))); }

  // Each series' day range as a vertical whisker through its mean.
  function whiskers(series, colors) {
    return (u) => {
      const ctx = u.ctx;
      ctx.save();
      ctx.lineWidth = 2 * (window.devicePixelRatio || 1);
      series.forEach((s, i) => {
        if (!s.lo || !s.hi || !u.series[i + 1].show) return;
        ctx.strokeStyle = colors[i];
        ctx.globalAlpha = 0.55;
        s.t.forEach((t, j) => {
          if (s.lo[j] === s.hi[j]) return;
          const x = u.valToPos(t, "x", true);
          ctx.beginPath();
          ctx.moveTo(x, u.valToPos(s.lo[j], "y", true));
          ctx.lineTo(x, u.valToPos(s.hi[j], "y", true));
          ctx.stroke();
        });
      });
      ctx.restore();
    };
  }

  // Days that were (mostly) training, not assessment: a hollow diamond over the day's point,
  // so a physio tells a training session from a test at a glance (series' n_training of n).
  const isTraining = (s, j) => !!s.n_training && s.n_training[j] * 2 > (s.n ? s.n[j] : 1);
  function trainingMarks(series, colors) {
    const fill = css.getPropertyValue("--panel2").trim() || "#1d2a37";
    return (u) => {
      const ctx = u.ctx, r = 5.5 * (window.devicePixelRatio || 1);
      ctx.save();
      ctx.lineWidth = 2 * (window.devicePixelRatio || 1);
      series.forEach((s, i) => {
        if (!s.n_training || !u.series[i + 1].show) return;
        ctx.strokeStyle = colors[i];
        ctx.fillStyle = fill;
        s.t.forEach((t, j) => {
          if (!isTraining(s, j)) return;
          const x = u.valToPos(t, "x", true), y = u.valToPos(s.y[j], "y", true);
          ctx.beginPath();
          ctx.moveTo(x, y - r); ctx.lineTo(x + r, y); ctx.lineTo(x, y + r); ctx.lineTo(x - r, y); ctx.closePath();
          ctx.fill(); ctx.stroke();
        });
      });
      ctx.restore();
    };
  }

  // The norm's typical band (opts.band: {lo, hi, text}) shaded behind the line.
  function normBand(band) {
    return (u) => {
      const ctx = u.ctx;
      const top = u.valToPos(band.hi, "y", true), bottom = u.valToPos(band.lo, "y", true);
      ctx.save();
      ctx.fillStyle = "rgba(147, 164, 181, 0.16)";
      ctx.fillRect(u.bbox.left, Math.min(top, bottom), u.bbox.width, Math.abs(bottom - top));
      ctx.restore();
    };
  }

  // A tooltip for the day under the cursor; a tap (touch, pen) moves the cursor there.
  function tooltip(el, series, digits) {
    const tip = BS.h('<div class="chart-tip" role="status" hidden></div>');
    el.append(tip);
    const at = (s, t) => s.t.indexOf(t);
    function show(u) {
      const idx = u.cursor.idx;
      if (idx === null || idx === undefined) { tip.hidden = true; return; }
      const t = u.data[0][idx];
      const lines = series.map((s) => {
        const j = at(s, t);
        if (j < 0) return "";
        const n = s.n ? s.n[j] : 1;
        const [lo, hi] = s.lo ? [BS.num(s.lo[j], digits), BS.num(s.hi[j], digits)] : [null, null];
        const range = lo !== hi ? ` (${lo}–${hi})` : "";
        const trials = n > 1 ? `, mean of ${n}` : "";
        const kind = s.n_training ? (isTraining(s, j) ? " · training" : " · assessment") : "";
        return `<div>${series.length > 1 ? `${BS.esc(s.label)}: ` : ""}<b>${BS.num(s.y[j], digits)}</b>${range}${trials}${kind}</div>`;
      }).filter(Boolean);
      if (!lines.length) { tip.hidden = true; return; }
      tip.innerHTML = `<div class="muted">${fmtDate.format(new Date(t * 1000))}</div>${lines.join("")}`;
      tip.hidden = false;
      const x = u.valToPos(t, "x") + u.over.offsetLeft;
      tip.style.left = `${Math.max(0, Math.min(x - tip.offsetWidth / 2, el.clientWidth - tip.offsetWidth))}px`;
    }
    return {
      hooks: {
        setCursor: [show],
        ready: [(u) => {
          u.over.addEventListener("pointerdown", (e) => {
            if (e.pointerType === "mouse") return;
            const r = u.over.getBoundingClientRect();
            u.setCursor({ left: e.clientX - r.left, top: e.clientY - r.top });
          });
          u.over.addEventListener("mouseleave", () => { tip.hidden = true; });
        }],
      },
    };
  }

  function trend(el, series, opts = {}) {
    el.replaceChildren();
    if (!series.length || !series.some((s) => s.t.length)) {
      el.append(BS.h('<p class="empty">No data yet.</p>'));
      return null;
    }
    const width = () => Math.max(240, el.clientWidth);
    const height = opts.height || 190;
    const colors = series.map((s, i) => s.color || COLORS[i % COLORS.length]);
    const band = opts.band && opts.band.lo !== undefined ? opts.band : null;
    const extent = [...series.flatMap((s) => [...(s.lo || s.y), ...(s.hi || s.y)]), ...(band ? [band.lo, band.hi] : [])];
    const digits = opts.digits ?? 1;
    const plot = new uPlot({
      width: width(), height,
      legend: { show: series.length > 1 || !!opts.legend, live: false },
      cursor: { drag: { x: false, y: false }, points: { size: 9 } },
      scales: { x: { time: true, range: xRangeOver([...series.flatMap((s) => s.t), ...(opts.xAlso || [])]) }, y: { range: opts.yRange || yRangeOver(extent) } },
      axes: [{ ...axis, space: 70, values: dateLabels }, { ...axis, size: 46, label: opts.unit || "", labelSize: 14 }],
      series: [{}, ...series.map((s, i) => ({
        label: s.label, stroke: colors[i], width: 2, spanGaps: true,
        points: { show: true, size: 7, fill: colors[i] },
      }))],
      hooks: { draw: [whiskers(series, colors), trainingMarks(series, colors)], drawAxes: band ? [normBand(band)] : [] },
      plugins: [tooltip(el, series, digits)],
    }, merge(series), el);
    new ResizeObserver(() => plot.setSize({ width: width(), height })).observe(el);
    el.uplot = plot;  // for the browser tests (scales, data)
    if (opts.band) {  // what the band is, or why there is none
      el.append(BS.h(`<p class="small muted chart-band-note">${band ? `Shaded: ${BS.esc(band.text)}` : `No norm band: ${BS.esc(opts.band.reason || "")}`}</p>`));
    }
    if (series.some((s) => s.t.some((_, j) => isTraining(s, j)))) {  // the markers' key
      el.append(BS.h('<p class="small muted chart-kind-key"><span aria-hidden="true">●</span> assessment · <span aria-hidden="true">◇</span> training session</p>'));
    }
    return plot;
  }

  // A tiny inline sparkline (SVG) for team cards.
  function spark(values, w = 90, h = 28) {
    if (!values || values.length < 2) return "";
    const lo = Math.min(...values), hi = Math.max(...values), span = hi - lo || 1;
    const pts = values.map((v, i) => `${(i / (values.length - 1)) * (w - 4) + 2},${h - 2 - ((v - lo) / span) * (h - 4)}`).join(" ");
    return `<svg width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" aria-hidden="true"><polyline points="${pts}" fill="none" stroke="#5aa9ff" stroke-width="2" stroke-linejoin="round"/></svg>`;
  }
  return { trend, spark, COLORS, LEG };
})();
