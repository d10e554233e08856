"""Fan-out of live messages to any number of web clients, without back-pressure.

The station publishes one message per batch of frames (about 20 a second).
Each client keeps its own cursor into a bounded history of messages: a slow
client only falls behind (and is told how many messages it missed when the
history has moved past it); it never slows the publisher or other clients.
Message ids increase by one, so a reconnecting client resumes with
`Last-Event-ID` from where it left off.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from typing import Any


class LiveHub:
    """A bounded, append-only log of JSON messages with blocking waits for readers."""

    def __init__(self, history: int = 400) -> None:
        self._messages: deque[tuple[int, str]] = deque(maxlen=history)
        self._next_id = 1
        self._cond = threading.Condition()
        self._closed = False

    @property
    def last_id(self) -> int:
        return self._next_id - 1

    def publish(self, message: dict[str, Any]) -> int:
        """Append a message (serialised once, shared by every client); returns its id."""
        with self._cond:
            msg_id = self._next_id
            self._next_id += 1
            message["id"] = msg_id
            self._messages.append((msg_id, json.dumps(message, separators=(",", ":"))))
            self._cond.notify_all()
            return msg_id

    def read_after(self, last_id: int, timeout: float) -> tuple[list[tuple[int, str]], int]:
        """Messages with id > last_id, waiting up to `timeout` for one.

        Returns (messages, missed): missed counts messages that had already
        left the history when this reader asked for them.
        """
        with self._cond:
            if self._next_id - 1 <= last_id and not self._closed:
                self._cond.wait(timeout)
            if not self._messages:
                return [], 0
            oldest = self._messages[0][0]
            missed = max(0, oldest - last_id - 1) if last_id < oldest else 0
            start = max(0, last_id + 1 - oldest)
            items = [self._messages[i] for i in range(start, len(self._messages))]
            return items, missed

    def close(self) -> None:
        """Wake every waiting reader (station shutting down)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed
