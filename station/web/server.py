"""The station's HTTP server: waitress, plus the limits waitress does not have.

A plain waitress server is taken offline by one client that opens ~100 connections and
sends their headers slowly: waitress stops accepting at `connection_limit` (100 by
default) and keeps such a connection for `channel_timeout` (120 s). The station must stay
answerable for every phone in the gym, so `StationServer`

- refuses (a 503 line, then closes at once) a new connection from an address that already
  holds `connections_per_address` (loopback included: nothing is trusted by address);
- closes a connection whose request headers are not complete `header_timeout_s` after
  its first byte (a new connection: after it was accepted) and one whose request body
  sends nothing for `body_timeout_s`;
- raises `connection_limit` well above the per-address limit (and the process's open-file
  limit with it), so the per-address limit bites first.

A connection with a request being answered (a page, a PDF, a live stream) is never closed
by these rules: slow senders do not hold threads (waitress reads requests in its event
loop), and live streams are capped by station.web.live_stream below the thread count.

`run()` returns on SIGTERM/Ctrl-C without tearing anything down; `stop_serving` then stops
in order: end the live streams, let their threads finish, close the sockets (closing them
first left each stream's thread writing to a closed server: one traceback per stream).
"""

from __future__ import annotations

import contextlib
import logging
import resource
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import MultiSocketServer, TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

from station.web.live_stream import MAX_STREAMS

log = logging.getLogger("station.web.server")

REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nConnection: close\r\n"
    b"Content-Type: text/plain\r\nContent-Length: 56\r\n\r\n"
    b"too many connections from your address; try again soon\n"
)
FD_RESERVE = 128  # files besides the connections: database, acquisition pipes, logs, PDFs
PAGE_THREADS = 16  # threads left for pages, health and PDFs with every live stream open
REFUSAL_LOG_INTERVAL_S = 10.0


@dataclass(frozen=True)
class ServerLimits:
    """What one client may hold of the server ([server] keys of the configuration)."""

    threads: int = 64
    connection_limit: int = 1000
    connections_per_address: int = 24
    header_timeout_s: float = 10.0
    body_timeout_s: float = 10.0

    @classmethod
    def from_config(cls, server: dict[str, Any]) -> ServerLimits:
        return cls(
            threads=server["threads"],
            connection_limit=server["connection_limit"],
            connections_per_address=server["connections_per_address"],
            header_timeout_s=float(server["header_timeout_s"]),
            body_timeout_s=float(server["body_timeout_s"]),
        )


class ConnectionLedger:
    """Open connections per client address, shared by every listening socket."""

    def __init__(self) -> None:
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()
        self.refused = 0
        self.closed_slow = 0

    def held(self, host: str) -> int:
        with self._lock:
            return self._open.get(host, 0)

    def opened(self, host: str) -> None:
        with self._lock:
            self._open[host] = self._open.get(host, 0) + 1

    def closed(self, host: str) -> None:
        with self._lock:
            left = self._open.get(host, 0) - 1
            if left > 0:
                self._open[host] = left
            else:
                self._open.pop(host, None)


def client_host(addr: Any) -> str:
    """The address part of a peer address (IPv4/IPv6 tuple), as the ledger keys it."""
    return str(addr[0]) if isinstance(addr, tuple) and addr else str(addr)


class StationChannel(HTTPChannel):
    """One connection: counted in the ledger, and it knows when its request began."""

    def __init__(self, server: StationServer, sock: Any, addr: Any, adj: Any,
                 map: Any = None) -> None:
        self.client_host = client_host(addr)
        self.ledger = server.ledger
        self._counted = False
        self.request_started = time.time()  # when the request being received began
        self.any_bytes = False
        super().__init__(server, sock, addr, adj, map=map)

    def add_channel(self, map: Any = None) -> None:
        super().add_channel(map)
        if not self._counted:
            self._counted = True
            self.ledger.opened(self.client_host)

    def del_channel(self, map: Any = None) -> None:
        super().del_channel(map)
        if self._counted:
            self._counted = False
            self.ledger.closed(self.client_host)

    def received(self, data: bytes) -> bool:
        before = self.request
        result = super().received(data)
        if data:
            self.any_bytes = True
        if self.request is not None and self.request is not before:
            self.request_started = time.time()  # a new request's first bytes came in now
        return result

    def overdue(self, now: float, limits: ServerLimits) -> str | None:
        """Why this connection should be closed now, or None. Never while a request of it
        is being answered."""
        if self.requests:
            return None
        request = self.request
        if request is None:
            if not self.any_bytes and now - self.creation_time > limits.header_timeout_s:
                return f"no request within {limits.header_timeout_s:g} s"
            return None
        if not request.headers_finished:
            if now - self.request_started > limits.header_timeout_s:
                return f"request headers not complete within {limits.header_timeout_s:g} s"
            return None
        if not request.completed and now - self.last_activity > limits.body_timeout_s:
            return f"request body stalled for {limits.body_timeout_s:g} s"
        return None


class StationServer(TcpWSGIServer):
    """waitress's TCP server with per-address connection limits and request deadlines."""

    channel_class = StationChannel

    def __init__(self, application: Any, map: Any, *, dispatcher: Any, adj: Adjustments,
                 sockinfo: Any, limits: ServerLimits, ledger: ConnectionLedger) -> None:
        self.limits = limits
        self.ledger = ledger
        self._refusal_logged: dict[str, float] = {}
        super().__init__(application, map, dispatcher=dispatcher, adj=adj, sockinfo=sockinfo)

    def handle_accept(self) -> None:
        try:
            accepted = self.accept()
            if accepted is None:
                return
            conn, addr = accepted
            self.set_socket_options(conn)
        except OSError:
            if self.adj.log_socket_errors:
                self.logger.warning("server accept() threw an exception", exc_info=True)
            return
        addr = self.fix_addr(addr)
        host = client_host(addr)
        if self.ledger.held(host) >= self.limits.connections_per_address:
            self._refuse(conn, host)
            return
        self.channel_class(self, conn, addr, self.adj, map=self._map)

    def _refuse(self, conn: Any, host: str) -> None:
        self.ledger.refused += 1
        try:
            conn.setblocking(False)
            conn.send(REFUSAL)
        except OSError:
            pass
        finally:
            conn.close()
        now = time.monotonic()
        if now - self._refusal_logged.get(host, -REFUSAL_LOG_INTERVAL_S) >= REFUSAL_LOG_INTERVAL_S:
            self._refusal_logged[host] = now
            if len(self._refusal_logged) > 10_000:
                self._refusal_logged.clear()
            log.warning(
                "refusing connections from %s: it holds %d already "
                "(server.connections_per_address)", host, self.limits.connections_per_address,
            )

    def run(self) -> None:
        """Serve until SIGTERM/Ctrl-C (SystemExit, KeyboardInterrupt); then `stop_serving`."""
        with contextlib.suppress(SystemExit, KeyboardInterrupt):
            self.asyncore.loop(timeout=self.adj.asyncore_loop_timeout, map=self._map,
                               use_poll=self.adj.asyncore_use_poll)

    def maintenance(self, now: float) -> None:
        super().maintenance(now)  # idle keep-alive connections: waitress's channel_timeout
        for channel in list(self.active_channels.values()):
            overdue = getattr(channel, "overdue", None)
            why = None if overdue is None or channel.will_close else overdue(now, self.limits)
            if why is not None:
                self.ledger.closed_slow += 1
                log.info("closing a connection from %s: %s", channel.client_host, why)
                channel.will_close = True


class StationMultiServer(MultiSocketServer):
    """Several listening sockets (a host name with IPv4 and IPv6 addresses), one loop."""

    def run(self) -> None:
        with contextlib.suppress(SystemExit, KeyboardInterrupt):
            self.asyncore.loop(timeout=self.adj.asyncore_loop_timeout, map=self.map,
                               use_poll=self.adj.asyncore_use_poll)


def stop_serving(
    server: Any, *, end_streams: Callable[[], None] | None = None, timeout_s: float = 5.0
) -> None:
    """Stop a server whose `run()` returned: end the long answers (`end_streams`, e.g. close
    the live hub), wait up to `timeout_s` for the threads serving them, close every socket."""
    if end_streams is not None:
        end_streams()
    server.task_dispatcher.shutdown(timeout=timeout_s)
    socket_map = server.map if isinstance(server, MultiSocketServer) else server._map
    wasyncore.close_all(socket_map)


def raise_open_file_limit(needed: int) -> int:
    """Raise this process's soft open-file limit towards `needed` (up to the hard limit);
    the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return needed if soft == resource.RLIM_INFINITY else soft


def create_station_server(
    app: Any, *, host: str, port: int, limits: ServerLimits, ident: str = "balance-station"
) -> Any:
    """The server for `app` on host:port (OSError when it cannot listen); `.run()` serves,
    `stop_serving` stops it."""
    if limits.threads < MAX_STREAMS + PAGE_THREADS:
        log.warning("server.threads is %d: with %d live streams open, pages would have %d "
                    "threads (give it %d or more)", limits.threads, MAX_STREAMS,
                    max(0, limits.threads - MAX_STREAMS), MAX_STREAMS + PAGE_THREADS)
    files = raise_open_file_limit(limits.connection_limit + FD_RESERVE)
    connection_limit = limits.connection_limit
    if files < connection_limit + FD_RESERVE:
        connection_limit = max(limits.connections_per_address * 2, files - FD_RESERVE)
        log.warning("open-file limit %d: serving at most %d connections (server.connection_"
                    "limit is %d)", files, connection_limit, limits.connection_limit)
    adj = Adjustments(
        host=host,
        port=port,
        threads=limits.threads,
        connection_limit=connection_limit,
        cleanup_interval=1,  # the deadlines are checked every second
        asyncore_use_poll=True,  # select() cannot watch more than 1024 sockets
        ident=ident,
    )
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    socket_map: dict[int, Any] = {}
    ledger = ConnectionLedger()
    servers = [
        StationServer(app, socket_map, dispatcher=dispatcher, adj=adj, sockinfo=info,
                      limits=limits, ledger=ledger)
        for info in adj.listen
    ]
    if len(servers) == 1:
        return servers[0]
    listening = [(s.effective_host, s.effective_port) for s in servers]
    return StationMultiServer(socket_map, adj, listening, dispatcher, servers[-1].log_info)
