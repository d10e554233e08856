"""Fan-out of live messages to any number of web clients, without back-pressure.

The station publishes one message per batch of frames (about 20 a second).
Each client keeps its own cursor into a bounded history of messages: a slow
client only falls behind (and is told how many messages it missed when the
history has moved past it); it never slows the publisher or other clients.
Message ids increase by one, so a reconnecting client resumes with
`Last-Event-ID` from where it left off.

Readers wake one after another, not all at once: a publish wakes one waiting reader, and
each reader, once it holds its messages, wakes the next (a baton). Waking every stream's
thread together (Condition.notify_all) made them fight for the GIL and one lock: about six
wake-ups per message per stream, where the baton needs about two (tests/test_live_hub.py
counts them). The last of 25 readers is a few milliseconds later than the first.
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
        self._lock = threading.Lock()
        self._waiting: list[threading.Lock] = []  # readers waiting for the next message
        self._to_wake: list[threading.Lock] = []  # readers a message came for, not yet woken
        self._closed = False

    @property
    def last_id(self) -> int:
        return self._next_id - 1

    def publish(self, message: dict[str, Any]) -> int:
        """Append a message (serialised once, shared by every client); returns its id."""
        with self._lock:
            msg_id = self._next_id
            self._next_id += 1
            message["id"] = msg_id
            text = json.dumps(message, separators=(",", ":"))
            self._messages.append((msg_id, text))
            self._to_wake.extend(self._waiting)
            self._waiting.clear()
            first = self._to_wake.pop() if self._to_wake else None
        if first is not None:
            first.release()
        return msg_id

    def read_after(self, last_id: int, timeout: float) -> tuple[list[tuple[int, str]], int]:
        """Messages with id > last_id, waiting up to `timeout` for one.

        Returns (messages, missed): missed counts messages that had already
        left the history when this reader asked for them.
        """
        waiter = None
        with self._lock:
            if self._next_id - 1 <= last_id and not self._closed:
                waiter = threading.Lock()
                waiter.acquire()
                self._waiting.append(waiter)
            else:
                return self._messages_after(last_id)
        woken = waiter.acquire(timeout=max(timeout, 0.0))
        with self._lock:
            if not woken:  # time ran out: leave the queues, unless the baton was on its way
                if waiter in self._waiting:
                    self._waiting.remove(waiter)
                elif waiter in self._to_wake:
                    self._to_wake.remove(waiter)
                else:
                    woken = True  # popped for waking just now: pass the baton on
            after = self._to_wake.pop() if woken and self._to_wake else None
            found = self._messages_after(last_id)
        if after is not None:
            after.release()
        return found

    def _messages_after(self, last_id: int) -> tuple[list[tuple[int, str]], int]:
        """read_after's answer, with the lock held."""
        if not self._messages:
            return [], 0
        oldest = self._messages[0][0]
        missed = max(0, oldest - last_id - 1) if last_id < oldest else 0
        start = max(0, last_id + 1 - oldest)
        return [self._messages[i] for i in range(start, len(self._messages))], missed

    def close(self) -> None:
        """Wake every waiting reader (station shutting down)."""
        with self._lock:
            self._closed = True
            waiters = self._waiting + self._to_wake
            self._waiting, self._to_wake = [], []
        for waiter in waiters:
            waiter.release()

    @property
    def closed(self) -> bool:
        return self._closed
