"""The Content-Security-Policy in a real browser: no page has a script, style or request the
policy refuses (Chromium reports each refusal on the console), and what used inline
handlers still works (the report's Print button, the QR code hidden when it cannot load).
"""

from __future__ import annotations

from typing import Any

from browser_support import TABLET, new_page

PAGES = ("/coach", "/physio", "/status", "/settings", "/calibrate", "/live")


def watch_policy(page: Any) -> list[str]:
    refused: list[str] = []
    page.on("console", lambda msg: refused.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    return refused


def test_no_page_breaks_the_policy(station: str, browser: Any, admin_state: Any) -> None:
    page = new_page(browser, TABLET, storage_state=admin_state)
    refused = watch_policy(page)
    for path in PAGES:
        response = page.goto(station + path)
        assert response is not None and response.status == 200, path
        assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
    assert not refused, refused
    assert not page.errors, page.errors
    page.context.close()


def test_report_print_button_and_chart_run_under_the_policy(
    station: str, browser: Any, admin_state: Any
) -> None:
    page = new_page(browser, TABLET, storage_state=admin_state)
    refused = watch_policy(page)
    page.goto(station + "/coach")
    athlete = page.evaluate(
        "BS.api('POST', '/api/athletes', {name: 'Policy Check', team: 'CSP'}).then((a) => a.uid)"
    )
    page.goto(f"{station}/report/{athlete}")
    page.evaluate("window.print = () => { window.printed = true; }")
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("window.printed === true")
    assert not refused, refused
    assert not page.errors, page.errors
    page.context.close()


def test_the_qr_code_box_hides_when_the_code_cannot_load(
    station: str, browser: Any, admin_state: Any
) -> None:
    page = new_page(browser, TABLET, storage_state=admin_state)
    refused = watch_policy(page)
    page.route("**/qr.svg", lambda route: route.fulfill(status=404, body="no"))
    page.goto(station + "/status")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # the image is lazy
    page.wait_for_function("() => document.querySelector('aside.join').hidden === true")
    assert not refused, refused
    page.context.close()
