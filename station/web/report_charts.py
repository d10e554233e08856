"""The report's charts as inline SVG, drawn on the server from the report's read model.

A printed report cannot wait for scripts: Chromium prints the PDF as soon as the page has
loaded, and a canvas prints as a low-resolution bitmap. SVG made here is in the HTML from
the start, prints as vectors at any size and looks the same in the browser, the print
dialog and the PDF. Two kinds: a condition's trend (one point per test day with its
range, the baseline as a dashed line) and a COP trace with its 95 % ellipse.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import numpy as np
from markupsafe import Markup, escape

TREND_W, TREND_H = 340, 150
TRACE_SIZE = 280
MARGIN = {"left": 42, "right": 10, "top": 10, "bottom": 24}
INK, MUTED, GRID = "#111", "#555", "#d5d9de"
LINE, BASE, ELLIPSE = "#1f5fbf", "#13804f", "#b3261e"
DAY_S = 86400.0


def nice_ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    """About `count` (at most count + 1) round values, a step of 1, 2, 2.5 or 5 times a
    power of ten, inside lo..hi."""
    if not math.isfinite(lo) or not math.isfinite(hi):
        return []
    if hi <= lo:
        lo, hi = lo - 1.0, hi + 1.0
    power = 10.0 ** math.floor(math.log10((hi - lo) / max(count, 1)))
    for step in (m * p for p in (power / 10, power, power * 10) for m in (1, 2, 2.5, 5)):
        first = math.ceil(lo / step) * step
        ticks = np.arange(first, hi + step * 1e-9, step)
        if len(ticks) <= count + 1:  # the finest round step that is not crowded
            break
    return [round(float(v), 10) for v in ticks]


def _num(value: float, step: float) -> str:
    """A tick value with as many decimals as its step needs (2.5 steps: 27.5, not 28)."""
    digits = next((d for d in range(4) if abs(step * 10**d - round(step * 10**d)) < 1e-6), 4)
    return f"{value:.{digits}f}".replace("-", "−")


def _day_label(t: float) -> str:
    day = datetime.fromtimestamp(t).astimezone()
    return f"{day.day} {day:%b}"


def _svg(width: int, height: int, label: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="rep-svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="10" font-family="sans-serif">'
        + "".join(body) + "</svg>"
    )


def trend_svg(points: dict[str, list], label: str, baseline: float | None = None,
              width: int = TREND_W, height: int = TREND_H) -> Markup:
    """One measure over time: per test day its mean (line and dots) and range (whisker),
    the baseline as a dashed line; dates along the bottom."""
    t = np.asarray(points["t"], dtype=float)
    y = np.asarray(points["y"], dtype=float)
    lo = np.asarray(points.get("lo", points["y"]), dtype=float)
    hi = np.asarray(points.get("hi", points["y"]), dtype=float)
    t0, t1 = float(t.min()), float(t.max())
    if t1 - t0 < 7 * DAY_S:  # a few days still get a week of axis: no squeezed-in dots
        mid = (t0 + t1) / 2
        t0, t1 = mid - 3.5 * DAY_S, mid + 3.5 * DAY_S
    labelled = np.linspace(t0, t1, 4)  # dates along the bottom, first and last at the ends
    edge = (t1 - t0) * 0.03  # the first and last dots clear of the axes
    t0, t1 = t0 - edge, t1 + edge
    span = [float(lo.min()), float(hi.max())] + ([baseline] if baseline is not None else [])
    y0, y1 = min(span), max(span)
    pad = (y1 - y0) * 0.12 or max(abs(y1) * 0.1, 1.0)
    y0, y1 = y0 - pad, y1 + pad
    ticks = nice_ticks(y0, y1)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    left, right = MARGIN["left"], width - MARGIN["right"]
    top, bottom = MARGIN["top"], height - MARGIN["bottom"]

    def sx(v: float) -> float:
        return left + (v - t0) / (t1 - t0) * (right - left)

    def sy(v: float) -> float:
        return bottom - (v - y0) / (y1 - y0) * (bottom - top)

    body = []
    for v in ticks:
        body.append(f'<line x1="{left}" x2="{right}" y1="{sy(v):.1f}" y2="{sy(v):.1f}" '
                    f'stroke="{GRID}" stroke-width="0.7"/>'
                    f'<text x="{left - 4}" y="{sy(v) + 3.5:.1f}" text-anchor="end" '
                    f'fill="{MUTED}">{_num(v, step)}</text>')
    for i, v in enumerate(labelled):
        anchor = "start" if i == 0 else "end" if i == len(labelled) - 1 else "middle"
        body.append(f'<text x="{sx(v):.1f}" y="{height - 8}" text-anchor="{anchor}" '
                    f'fill="{MUTED}">{_day_label(v)}</text>')
    body.append(f'<line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="{MUTED}" '
                'stroke-width="0.8"/>')
    if baseline is not None:
        body.append(f'<line class="baseline" x1="{left}" x2="{right}" y1="{sy(baseline):.1f}" '
                    f'y2="{sy(baseline):.1f}" stroke="{BASE}" stroke-width="1.2" '
                    'stroke-dasharray="5 3"/>')
    for ti, a, b in zip(t, lo, hi, strict=True):
        if b > a:
            body.append(f'<line x1="{sx(ti):.1f}" x2="{sx(ti):.1f}" y1="{sy(a):.1f}" '
                        f'y2="{sy(b):.1f}" stroke="{LINE}" stroke-width="1" opacity="0.6"/>')
    path = " ".join(f"{sx(a):.1f},{sy(b):.1f}" for a, b in zip(t, y, strict=True))
    body.append(f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="1.6"/>')
    body.extend(f'<circle cx="{sx(a):.1f}" cy="{sy(b):.1f}" r="2.6" fill="{LINE}"/>'
                for a, b in zip(t, y, strict=True))
    return _svg(width, height, label, body)


def trace_svg(trace: dict[str, Any], size: int = TRACE_SIZE) -> Markup:
    """The COP path (mm, ML across, AP up, equal scales) with its 95 % ellipse."""
    x = np.asarray(trace["x"], dtype=float)
    y = np.asarray(trace["y"], dtype=float)
    e = trace["ellipse"]
    reach = max(e["semi_major_mm"], 1.0)
    x0, x1 = min(x.min(), e["cx"] - reach), max(x.max(), e["cx"] + reach)
    y0, y1 = min(y.min(), e["cy"] - reach), max(y.max(), e["cy"] + reach)
    half = max(x1 - x0, y1 - y0) / 2 * 1.1
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    x0, x1, y0, y1 = cx - half, cx + half, cy - half, cy + half
    left, top = MARGIN["left"], MARGIN["top"]
    inner = size - left - MARGIN["right"]
    bottom = top + inner
    scale = inner / (2 * half)

    def sx(v: float) -> float:
        return left + (v - x0) * scale

    def sy(v: float) -> float:
        return bottom - (v - y0) * scale

    ticks_x, ticks_y = nice_ticks(x0, x1), nice_ticks(y0, y1)
    step = ticks_x[1] - ticks_x[0] if len(ticks_x) > 1 else 1.0
    body = [f'<rect x="{left}" y="{top}" width="{inner}" height="{inner}" fill="none" '
            f'stroke="{MUTED}" stroke-width="0.8"/>']
    for v in ticks_x:
        body.append(f'<line x1="{sx(v):.1f}" x2="{sx(v):.1f}" y1="{top}" y2="{bottom}" '
                    f'stroke="{GRID}" stroke-width="0.6"/><text x="{sx(v):.1f}" '
                    f'y="{bottom + 12}" text-anchor="middle" fill="{MUTED}">{_num(v, step)}'
                    '</text>')
    for v in ticks_y:
        body.append(f'<line x1="{left}" x2="{left + inner}" y1="{sy(v):.1f}" y2="{sy(v):.1f}" '
                    f'stroke="{GRID}" stroke-width="0.6"/><text x="{left - 4}" '
                    f'y="{sy(v) + 3.5:.1f}" text-anchor="end" fill="{MUTED}">{_num(v, step)}'
                    '</text>')
    path = " ".join(f"{sx(a):.1f},{sy(b):.1f}" for a, b in zip(x, y, strict=True))
    body.append(f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="0.8" '
                'opacity="0.85"/>')
    # SVG's y runs down, so the data's counter-clockwise angle turns clockwise on screen
    body.append(f'<ellipse class="ellipse95" cx="{sx(e["cx"]):.1f}" cy="{sy(e["cy"]):.1f}" '
                f'rx="{e["semi_major_mm"] * scale:.1f}" ry="{e["semi_minor_mm"] * scale:.1f}" '
                f'transform="rotate({-e["angle_deg"]:.1f} {sx(e["cx"]):.1f} '
                f'{sy(e["cy"]):.1f})" fill="none" stroke="{ELLIPSE}" stroke-width="1.6"/>')
    body.append(f'<text x="{left + inner / 2}" y="{size - 1}" text-anchor="middle" '
                f'fill="{INK}">ML (mm)</text><text x="10" y="{top + inner / 2}" '
                f'text-anchor="middle" fill="{INK}" transform="rotate(-90 10 '
                f'{top + inner / 2})">AP (mm)</text>')
    return _svg(size, size + 14, f"COP trace of {trace['condition']} with its 95 % ellipse",
                body)


def report_charts(report: dict[str, Any]) -> dict[str, Any]:
    """The charts of a report (station.analysis.history.report_view): per condition tested on
    two days or more its key measure's trend (`one_day`: the others' labels), and the key
    trial's COP trace."""
    trends, one_day = [], []
    for key, series in report["series"].items():
        measure = next((c for c in series["charts"] if c["key"] != "score"), None)
        points = series["measures"].get(measure["key"]) if measure else None
        if not points or not points["t"]:
            continue
        if len(points["t"]) < 2:  # one test day is no trend: named, not drawn
            one_day.append(series["label"])
            continue
        baseline = (series.get("baseline") or {}).get("values", {}).get(measure["key"])
        trends.append({"key": key, "label": series["label"], "measure": measure,
                       "n": series["n"], "baseline": baseline,
                       "svg": trend_svg(points, f"{measure['label']}, {series['label']}",
                                        baseline)})
    trace = report.get("trace")
    return {"trends": trends, "one_day": one_day,
            "trace": trace_svg(trace) if trace else None}


def css_string(text: str) -> Markup:
    """`text` as a quoted CSS string (the @page footer's content): anything but letters,
    digits, spaces and plain punctuation as a CSS hex escape (its trailing space is part of
    the escape), so no name can end the rule."""
    safe = set(" .,:;-_/()") | {c for c in text if c.isascii() and c.isalnum()}
    return Markup('"' + "".join(c if c in safe else f"\\{ord(c):06x} " for c in text) + '"')


def report_page_parts(report: dict[str, Any], station: str) -> dict[str, Any]:
    """What report.html needs besides the read model: its charts and the printed pages'
    footer (athlete, station, date; the page number is the stylesheet's counter)."""
    footer = f"{report['athlete']['name']} · {station} · {report['generated'][:10]}"
    return {"charts": report_charts(report), "footer_css": css_string(footer)}
