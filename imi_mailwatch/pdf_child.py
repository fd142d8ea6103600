"""Alert PDFs rendered in a helper process, so that the daemon does not keep the PDF stack.

fpdf2 with fontTools, Pillow and what they import takes 30-40 MiB, and a Python
process does not give that back once loaded. The daemon therefore renders its
PDFs in a helper process, started at the first PDF and ending after
``idle_seconds`` without work, or when the daemon ends (its stdin closes: no
orphan survives a killed daemon). The helper gets values only (title, header,
memo, lines, font path; :func:`imi_mailwatch.pdf.task_job`) as one JSON line
and answers with one JSON line and the PDF's bytes; it reads no mail, no state
and no secrets (its environment is the daemon's without them). When the helper
cannot be started, or dies twice in a row, the PDF is rendered in the daemon
itself: a PDF is always made.

    python -m imi_mailwatch.pdf_child [IDLE_SECONDS]
"""

from __future__ import annotations

import json
import os
import select
import subprocess  # nosec B404
import sys
import threading
from typing import Any, BinaryIO

import structlog

from imi_mailwatch import pdf

log = structlog.get_logger(__name__)

IDLE_SECONDS = 30.0
# what the helper may see of the daemon's environment: never its secrets
_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "VIRTUAL_ENV")


class HelperGone(Exception):
    """The helper process ended or broke the protocol; a fresh one is started."""


class ChildRenderer:
    """Renders :func:`pdf.task_job` values in a helper process, one at a time."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS) -> None:
        self.idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None

    def render(self, job: dict[str, Any]) -> bytes:
        with self._lock:
            for _ in range(2):  # the helper may have ended on idle just now
                try:
                    answer = self._ask(job)
                except (OSError, HelperGone, ValueError):
                    self._stop()
                    continue
                if answer is not None:
                    return answer
                break  # the helper could not render it: here, to raise the real error
            else:
                log.warning("pdf.helper_failed")
        return pdf.render_job(job)

    @property
    def pid(self) -> int | None:
        """The helper's process id while it runs (for tests)."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def close(self) -> None:
        """End the helper (it also ends by itself)."""
        with self._lock:
            self._stop()

    def _ask(self, job: dict[str, Any]) -> bytes | None:
        proc = self._running()
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps(job, ensure_ascii=False).encode() + b"\n")
        proc.stdin.flush()
        head = proc.stdout.readline()
        if not head:
            raise HelperGone
        meta = json.loads(head)
        if not meta.get("ok"):
            return None
        size = int(meta["size"])
        data = proc.stdout.read(size)
        if len(data) != size:
            raise HelperGone
        return data

    def _running(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            # bandit, ruff: this interpreter on a fixed module, no shell, no outside input
            self._proc = subprocess.Popen(  # noqa: S603  # nosec B603
                [sys.executable, "-m", "imi_mailwatch.pdf_child", str(self.idle_seconds)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=_helper_environment(),
                start_new_session=True,  # a Ctrl-C for the daemon is not one for the helper
            )
        return self._proc

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()
        # it holds nothing worth waiting for; no timed wait (EINVAL under libfaketime)
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _helper_environment() -> dict[str, str]:
    """The daemon's environment without its secrets: locale, paths and Python's own."""
    return {
        key: value
        for key, value in os.environ.items()
        if key in _ENVIRONMENT or (key.startswith("PYTHON") and key != "PYTHONSTARTUP")
    }


def serve(stdin: BinaryIO, stdout: BinaryIO, idle_seconds: float) -> int:
    """The helper's loop: one job per line until stdin closes or stays idle."""
    while True:
        ready, _, _ = select.select([stdin], [], [], idle_seconds)
        if not ready:
            return 0
        line = stdin.readline()
        if not line:
            return 0
        try:
            data = pdf.render_job(json.loads(line))
        except Exception as exc:  # the daemon renders it itself and sees the error
            stdout.write(json.dumps({"ok": False, "error": type(exc).__name__}).encode() + b"\n")
        else:
            stdout.write(json.dumps({"ok": True, "size": len(data)}).encode() + b"\n")
            stdout.write(data)
        stdout.flush()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    idle = float(args[0]) if args else IDLE_SECONDS
    return serve(sys.stdin.buffer, sys.stdout.buffer, idle)


if __name__ == "__main__":
    raise SystemExit(main())
