"""The watch view's stream keeps only the dot (station.web.views.watch.dot_only)."""

from __future__ import annotations

import json

from station.web.views.watch import dot_only


def test_a_frames_message_keeps_only_times_and_cop():
    hub_text = json.dumps({
        "kind": "frames", "t": 1.0, "force_n": 700.1, "cop_mm": [1.0, 2.0],
        "hold": {"trial_id": "left", "state": "holding", "body_weight_n": 700},
        "frames": {"t": [0.9, 1.0], "counts": [[1, 2, 3, 4]] * 2, "force_n": [700, 701],
                   "cop_mm": [[1, 2], [1, 2]], "cop_live_mm": [[1.1, 2.1], [1.0, 2.0]]},
    }, separators=(",", ":"))
    shown = json.loads(dot_only(hub_text))
    assert shown == {"kind": "frames", "cop_mm": [1.0, 2.0],
                     "frames": {"t": [0.9, 1.0], "cop_live_mm": [[1.1, 2.1], [1.0, 2.0]]}}


def test_every_other_message_is_dropped():
    assert dot_only('{"kind":"trial_result","result":{"athlete_uid":"a1"},"id":3}') is None
