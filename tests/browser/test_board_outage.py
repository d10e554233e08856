"""A dead acquisition process is shown on the pages: `kill -9` of the real station's child
makes the banner say the board is not answering, and it goes when frames flow again."""

from __future__ import annotations

import os
import signal

from browser_support import STATION_PROCESS, TABLET, acquisition_child, new_page, shot


def test_the_status_page_says_the_board_stopped_answering_and_recovers(station, browser,
                                                                        admin_state):
    page = new_page(browser, TABLET, admin_state)
    page.goto(station + "/status")
    page.wait_for_selector("#conn.pill-ok, #conn:has-text('live')")
    alert = page.locator("#station-alert")
    assert alert.is_hidden()
    shared_station = STATION_PROCESS["browser-station.log"]
    os.kill(acquisition_child(shared_station), signal.SIGKILL)
    alert.wait_for(state="visible", timeout=5_000)
    assert "not answering" in alert.inner_text() or "coming back" in alert.inner_text()
    shot(page, "tablet-board-outage")
    alert.wait_for(state="hidden", timeout=30_000)  # restarted with back-off, frames again
    page.wait_for_function(
        "() => document.getElementById('s-state').textContent === 'running'", timeout=10_000)
    assert not page.errors, page.errors
    page.context.close()
