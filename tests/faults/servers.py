"""Test servers in their own processes, so they outlive a daemon killed with SIGKILL.

``python -m tests.faults.servers corsa PASSWORD LICENCE [PROFILE]`` runs the Corsa
test server with an installation profile (default ``documented``),
``python -m tests.faults.servers smtp`` an aiosmtpd server that records every
message it accepts. Each prints one JSON line (its address) and then answers
JSON commands, one per line on standard input:

- ``{"cmd": "arm_kill", "pid": N}``: SIGKILL process N at the worst moment
  (Corsa: right after CreateMetaDocument was carried out, before the answer is
  sent; SMTP: after DATA was received and recorded, before the 250 reply);
- ``{"cmd": "disarm"}``; ``{"cmd": "down", "on": true|false}`` (Corsa answers
  HTTP 503; the SMTP server stops listening);
- ``{"cmd": "state"}``: what the server holds (documents or received mail).

:class:`ServerProcess` is the parent's side.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


class ServerProcess:
    """One server child process and its command channel."""

    def __init__(self, kind: str, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.faults.servers", kind, *args],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._lock = threading.Lock()
        self.info: dict[str, Any] = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("test server process ended")
        data: dict[str, Any] = json.loads(line)
        return data

    def command(self, cmd: str, **args: Any) -> Any:
        with self._lock:
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
            self.proc.stdin.flush()
            return self._read()["result"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


# -- the child side -------------------------------------------------------------------------


class _Killer:
    """Kills the armed process id once."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.kills = 0
        self.lock = threading.Lock()

    def fire(self) -> None:
        with self.lock:
            pid, self.pid = self.pid, None
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
                self.kills += 1
            except ProcessLookupError:
                pass


def _corsa(password: str, license_key: str, profile: str) -> None:
    import re
    from http.server import ThreadingHTTPServer

    from imi_mailwatch.testing.corsa_server import CorsaTestServer

    marker = re.compile(r"^IMI-verzoek (\S+?)(?::|$)")

    # a client killed mid-request resets its connection: expected here, not worth a traceback
    ThreadingHTTPServer.handle_error = lambda self, request, address: None  # type: ignore[method-assign]

    killer = _Killer()
    down = threading.Event()

    class Server(CorsaTestServer):
        def handle_soap(self, body: bytes, session_id: str | None) -> tuple[int, bytes, str | None]:
            if down.is_set():
                return 503, b"<html><body>Service Unavailable</body></html>", None
            status, answer, cookie = super().handle_soap(body, session_id)
            if status == 200 and b"CreateMetaDocumentResult>true<" in answer:
                killer.fire()  # the document exists; the daemon never hears of it
            return status, answer, cookie

    server = Server(
        username="imi-mailwatch", password=password, license_key=license_key, profile=profile
    )
    url = server.start()

    def state() -> dict[str, Any]:
        with server._lock:
            docs = [
                {
                    "id": d.object_id,
                    "kenmerk": d.fields.get("poststuk.kenmerk", ""),
                    # the request the subject names: what counts when kenmerk is not stored
                    "request": m.group(1)
                    if (m := marker.match(d.fields.get("poststuk.onderwerp", "")))
                    else "",
                    "files": [f.extension for f in d.files],
                    "memo": d.memo,
                }
                for d in server.documents.values()
                if not d.deleted
            ]
        return {"documents": docs, "kills": killer.kills, "calls": len(server.calls)}

    _serve({"url": url}, killer, down, state, lambda on: None)


def _smtp(port: int) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP, Envelope, Session

    killer = _Killer()
    down = threading.Event()
    received: list[dict[str, Any]] = []
    lock = threading.Lock()

    class Handler:
        async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
            msg = message_from_bytes(envelope.original_content or b"", policy=policy.default)
            with lock:
                received.append(
                    {
                        "message_id": str(msg.get("Message-ID", "")),
                        "request": str(msg.get("X-IMI-Request", "")),
                        "followup": str(msg.get("X-IMI-Followup", "")),
                        "subject": str(msg.get("Subject", "")),
                        "text": _text(msg),
                    }
                )
            killer.fire()  # accepted and recorded; the daemon never sees the 250
            return "250 queued"

    holder: dict[str, Any] = {}

    def listen(on: bool) -> None:
        if on and "c" not in holder:
            holder["c"] = Controller(Handler(), hostname="127.0.0.1", port=port)
            holder["c"].start()
        elif not on and "c" in holder:
            holder.pop("c").stop()

    listen(True)

    def state() -> dict[str, Any]:
        with lock:
            return {"received": list(received), "kills": killer.kills}

    def set_down(on: bool) -> None:
        listen(not on)

    _serve({"port": port}, killer, down, state, set_down)


def _text(msg: Any) -> str:
    body = msg.get_body(("plain",))
    return str(body.get_content()) if body is not None else ""


def _serve(
    info: dict[str, Any],
    killer: _Killer,
    down: threading.Event,
    state: Any,
    on_down: Any,
) -> None:
    print(json.dumps(info), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        result: Any = None
        if cmd["cmd"] == "arm_kill":
            killer.pid = int(cmd["pid"])
        elif cmd["cmd"] == "disarm":
            killer.pid = None
        elif cmd["cmd"] == "down":
            if cmd["on"]:
                down.set()
            else:
                down.clear()
            on_down(bool(cmd["on"]))
        elif cmd["cmd"] == "state":
            result = state()
        print(json.dumps({"result": result}), flush=True)


def main(argv: list[str]) -> None:
    kind = argv[0]
    if kind == "corsa":
        _corsa(argv[1], argv[2], argv[3] if len(argv) > 3 else "documented")
    elif kind == "smtp":
        _smtp(int(argv[1]))
    else:
        raise SystemExit(f"unknown server kind {kind}")


if __name__ == "__main__":
    main(sys.argv[1:])
