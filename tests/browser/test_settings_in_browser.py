"""The Settings page's station settings in a real browser, at phone and tablet sizes: a bad
value refused next to its field with the key named, a good one saved and shown in the header,
then put back to the config file's value (the suite shares one station). Screenshots go to
artifacts/screenshots/settings-*.png.
"""

from __future__ import annotations

import pytest
from browser_support import PHONE, TABLET, new_page, no_horizontal_overflow, shot


@pytest.mark.parametrize("viewport, prefix", [(PHONE, "phone"), (TABLET, "tablet")])
def test_station_settings_are_checked_saved_and_shown(station, browser, admin_state, viewport,
                                                      prefix):
    page = new_page(browser, viewport, admin_state)
    page.goto(station + "/settings")
    page.wait_for_load_state("networkidle")
    fields = page.locator("#s-fields .setting")
    assert fields.count() == 6
    assert page.locator("#hold tbody tr").count() > 5  # the thresholds, read-only
    assert page.locator("#hold-docs").get_attribute("href") == "/docs/hold-engine.md"
    page.locator("#hold-details summary").click()
    page.locator("#hold tbody tr").first.wait_for(state="visible")
    assert no_horizontal_overflow(page)
    shot(page, f"settings-{prefix}-1-station")

    page.fill("#s-storage-backup_keep", "0")
    page.click("#s-form button[type=submit]")
    error = page.locator('[data-setting="storage.backup_keep"] .field-error')
    error.wait_for(state="visible")
    assert "storage.backup_keep must be an integer from 1 to 1000" in error.inner_text()
    shot(page, f"settings-{prefix}-2-refused", full_page=False)

    page.fill("#s-storage-backup_keep", "10")
    page.fill("#s-station-name", f"Riverside FC {prefix}")
    page.click("#s-form button[type=submit]")
    page.locator(".brand", has_text=f"Riverside FC {prefix}").wait_for()
    note = page.locator('[data-setting="station.name"] p.muted')
    assert "Set here" in note.inner_text()
    page.reload()
    assert page.locator(".brand").inner_text() == f"Riverside FC {prefix}"
    log = page.locator("#seclog tbody")
    assert "setting changed" in log.inner_text() and "station.name" in log.inner_text()
    assert no_horizontal_overflow(page)
    shot(page, f"settings-{prefix}-3-saved")

    page.locator('[data-setting="station.name"] button', has_text="Use the file").click()
    page.locator(".brand", has_text="Balance Station").wait_for()
    assert not page.errors, page.errors
    page.context.close()
