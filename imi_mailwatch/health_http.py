"""The daemon's small HTTP endpoint: /livez, /readyz, /healthz and /metrics.

One thread runs an asyncio loop that serves every connection, so a client that
connects and sends nothing costs a socket, never a thread: the connection is
closed after ``read_timeout`` seconds without a complete request head, and
beyond ``max_connections`` open connections the oldest is closed to make room.
The verdicts are computed on one worker thread (they read the state store,
which may wait on a lock), so a slow verdict never stops the loop from
accepting and timing out connections. Each answer closes its connection.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import socket
import threading
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, Protocol

import structlog
from prometheus_client import CONTENT_TYPE_LATEST

from imi_mailwatch import metrics
from imi_mailwatch.errors import ConfigError

log = structlog.get_logger(__name__)

MAX_HEAD = 8192  # bytes of request line and headers; more is refused
JSON = "application/json"
TEXT = "text/plain; charset=utf-8"


class Verdict(Protocol):
    """What a health check returns (``imi_mailwatch.health.HealthReport``)."""

    @property
    def ok(self) -> bool: ...

    def as_dict(self) -> dict[str, Any]: ...


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:9310`` for IPv6) -> (host, port). Raises ConfigError."""
    host, sep, port_text = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ConfigError(
            f"service.health_listen: {value!r} is not HOST:PORT (for example 127.0.0.1:9310)"
        )
    return host, int(port_text)


class HealthServer:
    """The endpoint, served from one background thread.

    ``check`` is the full verdict (/healthz); ``live`` and ``ready`` the narrower
    ones for /livez and /readyz (``check`` when not given). ``state`` names the
    run state shown with each verdict.
    """

    def __init__(
        self,
        listen: str,
        *,
        check: Callable[[], Verdict],
        state: Callable[[], str],
        live: Callable[[], Verdict] | None = None,
        ready: Callable[[], Verdict] | None = None,
        collector: Any = None,
        read_timeout: float = 5.0,
        max_connections: int = 64,
    ) -> None:
        self.host, self.port = parse_listen(listen)
        self.verdicts: Mapping[str, Callable[[], Verdict]] = {
            "/healthz": check,
            "/livez": live or check,
            "/readyz": ready or check,
        }
        self.state = state
        self.collector = collector
        self.read_timeout = read_timeout
        self.max_connections = max_connections
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="health-check")
        self._open: dict[asyncio.StreamWriter, None] = {}  # insertion order: oldest first
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def address(self) -> tuple[str, int]:
        """The bound address (the real port when 0 was asked for)."""
        if self._sock is None:
            return self.host, self.port
        host, port = self._sock.getsockname()[:2]
        return str(host), int(port)

    def start(self) -> None:
        """Bind (raises ConfigError when the port is taken), then serve in the background."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(128)
        except OSError as exc:
            sock.close()
            raise ConfigError(
                f"service.health_listen: cannot listen on {self.host}:{self.port}: {exc.strerror}"
            ) from None
        self._sock = sock
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(sock, ready), name="health-http", daemon=True
        )
        self._thread.start()
        ready.wait()
        host, port = self.address
        log.info("health.listening", host=host, port=port)

    def stop(self) -> None:
        loop, stopped = self._loop, self._stopped
        if loop is not None and stopped is not None and self._thread is not None:
            loop.call_soon_threadsafe(stopped.set)
            self._thread.join(timeout=10)
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._sock is not None:
            self._sock.close()
        self._loop = self._stopped = self._thread = None

    # -- the loop ------------------------------------------------------------------------

    def _run(self, sock: socket.socket, ready: threading.Event) -> None:
        asyncio.run(self._serve(sock, ready))

    async def _serve(self, sock: socket.socket, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        server = await asyncio.start_server(self._connection, sock=sock, limit=MAX_HEAD)
        ready.set()
        async with server:
            await self._stopped.wait()
            server.close()
            for writer in list(self._open):
                writer.close()
            if self._handlers:  # let them see the end of their streams and return
                await asyncio.wait(set(self._handlers), timeout=self.read_timeout)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        self._open[writer] = None
        while len(self._open) > self.max_connections:
            oldest = next(iter(self._open))
            self._open.pop(oldest, None)
            oldest.close()
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.read_timeout)
            status, ctype, body = await self._answer(head)
            writer.write(_response(status, ctype, body))
            await asyncio.wait_for(writer.drain(), self.read_timeout)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            pass  # slow, silent, oversized or gone: close without an answer
        finally:
            self._open.pop(writer, None)
            writer.close()
            if task is not None:
                self._handlers.discard(task)

    async def _answer(self, head: bytes) -> tuple[int, str, bytes]:
        parts = head.split(b"\r\n", 1)[0].split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/"):
            return 400, TEXT, b"bad request\n"
        method, target = parts[0], parts[1].decode("latin-1").split("?", 1)[0]
        if method != b"GET":
            return 405, TEXT, b"only GET\n"
        loop = asyncio.get_running_loop()
        if target == "/metrics":
            body = await loop.run_in_executor(self._pool, metrics.render, self.collector)
            return 200, CONTENT_TYPE_LATEST, body
        verdict = self.verdicts.get(target)
        if verdict is None:
            return 404, TEXT, b"not found\n"
        return await loop.run_in_executor(self._pool, self._judge, verdict)

    def _judge(self, verdict: Callable[[], Verdict]) -> tuple[int, str, bytes]:
        try:
            report = verdict()
            data = {**report.as_dict(), "state": self.state()}
            status = 200 if report.ok else 503
        except Exception as exc:  # a broken check is itself unhealthy, never a crash
            log.error("health.check_failed", error=type(exc).__name__)
            data = {"status": "unhealthy", "problems": ["health check failed"]}
            status = 503
        return status, JSON, (json.dumps(data, ensure_ascii=False) + "\n").encode("utf-8")


def _response(status: int, ctype: str, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
        "Cache-Control: no-store\r\nConnection: close\r\nServer: imi-mailwatch\r\n\r\n"
    )
    return head.encode("ascii") + body
