"""The one live-stream client (web/static/js/live_stream.js) in a real browser: a stream that
ends is retried by the browser, a refused one by the client with back-off, resuming with
?last_event_id= after the last message seen; the station's `gap` events add up in `missed`, and
the pill says "live" again.

The first two answers of /api/live are made up by the test (Playwright's routing); the third
goes to the real station. (The browser's own retry sends Last-Event-ID, but a routed request
does not show that header to the test, so it is not checked here.)
"""

from __future__ import annotations

import time

from browser_support import PHONE, new_page


def test_the_live_client_resumes_backs_off_and_counts_missed_messages(station, browser,
                                                                     admin_state):
    page = new_page(browser, PHONE, admin_state)
    seen: list[tuple[float, str]] = []  # (time, url) of each request of the stream

    def answer(route, request):
        seen.append((time.monotonic(), request.url))
        if len(seen) == 1:  # a short stream: one message, 3 dropped ones; then it ends
            route.fulfill(status=200, content_type="text/event-stream",
                          body='retry: 100\n\nevent: gap\ndata: 3\n\n'
                               'id: 7\ndata: {"kind": "hello"}\n\n')
        elif len(seen) == 2:  # the browser's own retry is refused: the browser gives up
            route.fulfill(status=503, content_type="application/json",
                          body='{"error": "too many live streams open"}')
        else:
            route.continue_()

    page.route("**/api/live*", answer)
    page.goto(station + "/status")
    deadline = time.monotonic() + 20
    while len(seen) < 3 and time.monotonic() < deadline:  # the stream, the refusal, the retry
        page.wait_for_timeout(100)
    page.wait_for_function("() => LiveStream.status.state === 'live'"
                           " && document.querySelector('#conn').textContent === 'live'",
                           timeout=30_000)
    # the made-up stream's 3, plus whatever the real station reports missed since id 7 (after
    # other tests its hub has moved past 7 and it says so with a gap event of its own)
    page.wait_for_function("() => LiveStream.missed >= 3")
    assert len(seen) >= 3
    assert seen[2][1].endswith("/api/live?last_event_id=7")  # the client's own resume
    assert seen[2][0] - seen[1][0] >= 0.9  # after the back-off's first second
    assert page.locator("#conn").get_attribute("class") == "pill pill-ok"
    assert not page.errors, page.errors
    page.context.close()
