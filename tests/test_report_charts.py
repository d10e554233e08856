"""The report's server-drawn SVG charts (station.web.report_charts): round axis values, one dot
per test day, the baseline where its value is, a COP trace's ellipse where the data's is, and
a footer string no athlete's name can break out of."""

from __future__ import annotations

import re

import numpy as np
import pytest

from station.analysis.metrics.sway import confidence_ellipse
from station.web.report_charts import css_string, nice_ticks, trace_svg, trend_svg

DAY = 86400.0


@pytest.mark.parametrize("lo, hi", [(0.0, 100.0), (23.7, 31.2), (0.41, 0.47), (-12.0, 9.0)])
def test_ticks_are_round_and_span_the_range(lo, hi):
    ticks = nice_ticks(lo, hi)
    assert 3 <= len(ticks) <= 6, ticks
    assert lo <= ticks[0] and ticks[-1] <= hi + 1e-9
    steps = np.diff(ticks)
    assert np.allclose(steps, steps[0])
    mantissa = steps[0] / 10 ** np.floor(np.log10(steps[0]))
    assert any(np.isclose(mantissa, m) for m in (1, 2, 2.5, 5)), steps[0]


def test_a_trend_has_a_dot_per_day_and_its_baseline_at_its_value():
    t = [1_700_000_000 + DAY * 7 * i for i in range(5)]
    y = [30.0, 29.0, 27.5, 28.0, 26.0]
    svg = str(trend_svg({"t": t, "y": y, "lo": [v - 1 for v in y], "hi": [v + 1 for v in y]},
                        "COP velocity", baseline=30.0))
    dots = [float(cy) for cy in re.findall(r'<circle cx="[^"]+" cy="([^"]+)"', svg)]
    assert len(dots) == 5
    base_y = float(re.search(r'class="baseline"[^>]*y1="([^"]+)"', svg)[1])
    assert base_y == pytest.approx(dots[0], abs=0.2)  # the first test was the baseline
    assert dots[-1] > dots[0]  # lower sway is drawn lower (SVG y grows downwards)
    assert svg.count("<line x1=\"") >= 5 + 1  # whiskers, grid, axis
    assert 'aria-label="COP velocity"' in svg


def test_the_trace_ellipse_follows_the_data():
    rng = np.random.default_rng(1)
    angle = np.radians(30.0)
    major, minor = rng.normal(0, 8, 2000), rng.normal(0, 2, 2000)
    x = 5 + major * np.cos(angle) - minor * np.sin(angle)
    y = -3 + major * np.sin(angle) + minor * np.cos(angle)
    e = confidence_ellipse(x, y)
    trace = {"x": x.tolist(), "y": y.tolist(), "condition": "Left leg, eyes open",
             "ellipse": {"cx": float(x.mean()), "cy": float(y.mean()),
                         "semi_major_mm": e.semi_major_mm, "semi_minor_mm": e.semi_minor_mm,
                         "angle_deg": e.angle_deg, "area_mm2": e.area_mm2}}
    svg = str(trace_svg(trace))
    found = re.search(r'<ellipse class="ellipse95"[^>]*rx="([^"]+)" ry="([^"]+)" '
                      r'transform="rotate\(([^ ]+) ', svg)
    rx, ry, rotation = float(found[1]), float(found[2]), float(found[3])
    assert rx / ry == pytest.approx(e.semi_major_mm / e.semi_minor_mm, rel=0.01)
    # +30 degrees towards +AP (up the page) is a clockwise -30 in SVG's downward y
    assert rotation == pytest.approx(-30.0, abs=2.0)


@pytest.mark.parametrize("name", ['Zoë "Z" O\'Neil', "a</style><script>x()</script>",
                                  "back\\slash; } @page {"])
def test_a_footer_string_cannot_end_its_css_rule(name):
    quoted = str(css_string(f"{name} · Station"))
    inner = quoted[1:-1]
    assert quoted[0] == quoted[-1] == '"'
    assert not re.search(r'[<>{}"\']', inner)
    decoded = re.sub(r"\\([0-9a-f]{6}) ", lambda m: chr(int(m[1], 16)), inner)
    assert decoded == f"{name} · Station"


def test_tick_labels_keep_the_decimals_their_step_needs():
    t = [1_700_000_000 + DAY * 7 * i for i in range(3)]
    svg = str(trend_svg({"t": t, "y": [24.0, 30.0, 35.0]}, "COP velocity"))
    labels = re.findall(r'text-anchor="end" fill="[^"]+">([−\d.]+)</text>', svg)  # the y axis
    values = [float(v.replace("−", "-")) for v in labels]
    steps = np.diff(values)
    assert len(values) >= 3 and np.allclose(steps, steps[0]), labels  # evenly spaced labels
