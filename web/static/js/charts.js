// Trend charts on the vendored uPlot (web/static/vendor/uplot): time on x, one or more
// series; sized to their box and redrawn when it resizes (phone rotation).
"use strict";
const Charts = (() => {
  const COLORS = ["#3ecf8e", "#5aa9ff", "#b48cff", "#f5a524", "#ef5350"];
  const axis = { stroke: "#93a4b5", grid: { stroke: "#2a394966", width: 1 }, ticks: { stroke: "#2a3949" } };

  // series: [{label, t: [unix s], y: [...]}]; merges them on one x axis (nulls elsewhere).
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
  // At least a week of x axis, so one test (or one day of tests) is not spread over years.
  function xRange(u, lo, hi) {
    if (lo === null || hi === null) return [lo, hi];
    const pad = Math.max(0, (7 * DAY - (hi - lo)) / 2);
    return [lo - pad - 0.03 * (hi - lo), hi + pad + 0.03 * (hi - lo)];
  }
  function yRange(u, lo, hi) {
    if (lo === null || hi === null) return [0, 1];
    const span = hi - lo || Math.abs(hi) || 1;
    return [Math.max(0, lo - 0.15 * span), hi + 0.15 * span];
  }
  const fmtDay = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
  function dateLabels(u, splits) { return splits.map((s) => fmtDay.format(new Date(s * 1000))); }

  function trend(el, series, opts = {}) {
    el.replaceChildren();
    if (!series.length || !series.some((s) => s.t.length)) {
      el.append(BS.h('<p class="empty">No data yet.</p>'));
      return null;
    }
    const width = () => Math.max(240, el.clientWidth);
    const height = opts.height || 190;
    const plot = new uPlot({
      width: width(), height,
      legend: { show: series.length > 1 || !!opts.legend },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true, range: xRange }, y: opts.yRange ? { range: opts.yRange } : { range: yRange } },
      axes: [{ ...axis, space: 70, values: dateLabels }, { ...axis, size: 46, label: opts.unit || "", labelSize: 14 }],
      series: [{}, ...series.map((s, i) => ({
        label: s.label, stroke: s.color || COLORS[i % COLORS.length], width: 2, spanGaps: true,
        points: { show: true, size: 6, fill: s.color || COLORS[i % COLORS.length] },
      }))],
    }, merge(series), el);
    new ResizeObserver(() => plot.setSize({ width: width(), height })).observe(el);
    return plot;
  }

  // A tiny inline sparkline (SVG) for team cards.
  function spark(values, w = 90, h = 28) {
    if (!values || values.length < 2) return "";
    const lo = Math.min(...values), hi = Math.max(...values), span = hi - lo || 1;
    const pts = values.map((v, i) => `${(i / (values.length - 1)) * (w - 4) + 2},${h - 2 - ((v - lo) / span) * (h - 4)}`).join(" ");
    return `<svg width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" aria-hidden="true"><polyline points="${pts}" fill="none" stroke="#5aa9ff" stroke-width="2" stroke-linejoin="round"/></svg>`;
  }
  return { trend, spark, COLORS };
})();
