"""One `/api/live` stream read on a thread, for the benchmarks that open many (footprint,
sse_latency): the bytes are counted, and with `keep_chunks` each chunk is kept with its
arrival time for parsing afterwards (reading stays cheap while the clients run)."""

from __future__ import annotations

import http.client
import threading
import time


class LiveClient(threading.Thread):
    """A kiosk or phone screen: reads the stream until `stop` is set; `error` says why it
    ended otherwise ("stream ended", an HTTP status, an exception)."""

    def __init__(self, host: str, port: int, token: str, stop: threading.Event, *,
                 keep_chunks: bool = False) -> None:
        super().__init__(daemon=True)
        self.host, self.port, self.token, self.stop = host, port, token, stop
        self.keep_chunks = keep_chunks
        self.bytes = 0
        self.chunks: list[tuple[float, bytes]] = []
        self.error: str | None = None
        self.connected = threading.Event()

    def run(self) -> None:
        try:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            conn.request("GET", "/api/live", headers={"Authorization": f"Bearer {self.token}",
                                                      "Accept": "text/event-stream"})
            resp = conn.getresponse()
            if resp.status != 200:
                self.error = f"HTTP {resp.status}: {resp.read(200)!r}"
                return
            self.connected.set()
            while not self.stop.is_set():
                data = resp.read1(65536)
                if not data:
                    self.error = "stream ended"
                    break
                self.bytes += len(data)
                if self.keep_chunks:
                    self.chunks.append((time.monotonic(), data))
            conn.close()
        except Exception as exc:  # reported in the bench's JSON
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.connected.set()
