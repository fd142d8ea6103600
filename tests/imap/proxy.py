"""A TCP proxy on loopback that can go silent or hold a command, to stage what a network does.

``freeze()`` stops forwarding on every connection open at that moment, in both
directions, without closing anything: no FIN, no RST, no BYE. That is what a
NAT table that forgot the session, or a firewall that drops it, looks like to
the client. Connections opened after ``freeze()`` are forwarded as usual, so a
client that notices and reconnects gets through again.

``before_client_sends(marker, action)`` runs ``action`` once, when the client
next sends bytes containing ``marker``, before those bytes reach the server:
a way to make something happen exactly between two commands of a session
(for instance an APPEND on another connection just before ``UID SEARCH``).
``rewrite_server_bytes(fn)`` passes what the server sends through ``fn``, to
imitate a server that answers differently; ``wait_client_sends(marker)`` waits
until the client has sent ``marker`` (every byte a client sends is kept in
``client_sent``).
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from collections.abc import Callable


class _Pair:
    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.client = client
        self.server = server
        self.frozen = threading.Event()
        self.closed = threading.Event()
        self.sent_tail = b""  # the client's last bytes, so a marker split over two reads is seen

    def close(self) -> None:
        self.closed.set()
        for s in (self.client, self.server):
            with contextlib.suppress(OSError):
                s.close()


class FreezingProxy:
    """Forwards 127.0.0.1:``port`` to ``target``; ``freeze()`` silences open connections."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._pairs: list[_Pair] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.connections = 0
        self._hook: tuple[bytes, Callable[[], object]] | None = None
        self.hooks_run = 0
        self._rewrite: Callable[[bytes], bytes] | None = None
        self.client_sent = bytearray()
        self._sent_changed = threading.Condition()
        self._accepter = threading.Thread(target=self._accept, daemon=True)
        self._accepter.start()

    def _accept(self) -> None:
        self._listener.settimeout(0.1)
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(self._target, timeout=5)
            except OSError:
                client.close()
                continue
            pair = _Pair(client, server)
            with self._lock:
                self._pairs.append(pair)
                self.connections += 1
            threading.Thread(target=self._pump, args=(pair,), daemon=True).start()

    def _pump(self, pair: _Pair) -> None:
        sel = selectors.DefaultSelector()
        sel.register(pair.client, selectors.EVENT_READ, pair.server)
        sel.register(pair.server, selectors.EVENT_READ, pair.client)
        try:
            while not pair.closed.is_set() and not self._stop.is_set():
                if pair.frozen.is_set():
                    pair.closed.wait(0.1)  # hold the sockets open, forward nothing
                    continue
                for key, _ in sel.select(0.1):
                    src = key.fileobj
                    assert isinstance(src, socket.socket)
                    try:
                        data = src.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        pair.close()
                        return
                    if src is pair.client:
                        self._run_hook(pair, data)
                        with self._sent_changed:
                            self.client_sent += data
                            self._sent_changed.notify_all()
                    elif self._rewrite is not None:
                        data = self._rewrite(data)
                    try:
                        key.data.sendall(data)
                    except OSError:
                        pair.close()
                        return
        finally:
            sel.close()

    def before_client_sends(self, marker: bytes, action: Callable[[], object]) -> None:
        """Run ``action`` once, before the next client bytes containing ``marker`` go on."""
        with self._lock:
            self._hook = (marker, action)

    def rewrite_server_bytes(self, fn: Callable[[bytes], bytes] | None) -> None:
        """Pass what servers send through ``fn`` from now on (None: forward as it is)."""
        self._rewrite = fn

    def wait_client_sends(self, marker: bytes, timeout: float, *, start: int = 0) -> bool:
        """Wait until a client has sent ``marker`` (after byte ``start`` of ``client_sent``)."""
        with self._sent_changed:
            return self._sent_changed.wait_for(
                lambda: self.client_sent.find(marker, start) >= 0, timeout
            )

    def _run_hook(self, pair: _Pair, data: bytes) -> None:
        tail = pair.sent_tail
        seen = tail + data
        pair.sent_tail = seen[-64:]
        with self._lock:
            hook = self._hook
            # a marker counts once: only where it ends in the bytes just read
            if hook is None or hook[0] not in seen[max(0, len(tail) - len(hook[0]) + 1) :]:
                return
            self._hook = None
        hook[1]()  # the client's bytes wait here until the action is done
        self.hooks_run += 1

    def freeze(self) -> int:
        """Silence every open connection; returns how many."""
        with self._lock:
            live = [p for p in self._pairs if not p.closed.is_set()]
        for p in live:
            p.frozen.set()
        return len(live)

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            pairs = list(self._pairs)
        for p in pairs:
            p.close()
        self._accepter.join(2)
