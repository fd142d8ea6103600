"""Service test helpers: a configuration on disk, the daemon as a real process, HTTP GET."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from imi_mailwatch.commands.demo import make_maildir, sample_mailbox

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "rules"
# synthetic credentials of the Corsa test server; the tests look for them in every log line
CORSA_PASSWORD = "Zq7-synthetic-corsa-pw-4c1e"
CORSA_LICENCE = "LIC-synthetic-5f2a9b"
ENVIRON = {"IMI_CORSA_PASSWORD": CORSA_PASSWORD, "IMI_CORSA_LICENCE": CORSA_LICENCE}
WAIT = 60.0  # a guard against a hung test, never a measurement


def corsa_task_sink(url: str, *, timeout_seconds: float, retry_attempts: int) -> dict[str, Any]:
    """The task_sink block for the Corsa test server, secrets from ENVIRON's variables."""
    return {
        "kind": "corsa",
        "corsa": {
            "url": url,
            "username": "imi-mailwatch",
            "password": {"env": "IMI_CORSA_PASSWORD"},
            "license_key": {"env": "IMI_CORSA_LICENCE"},
            "timeout_seconds": timeout_seconds,
            "retry_attempts": retry_attempts,
        },
    }


def write_config(tmp: Path, *, corsa_url: str | None = None, **sections: Any) -> Path:
    """A configuration file over the sample Maildir in ``tmp``; ``sections`` override."""
    data: dict[str, Any] = {
        "state": {"path": "state/state.sqlite3"},
        "logging": {"level": "info", "format": "json"},
        "mailboxes": [{"name": "imi", "kind": "maildir", "path": "mailbox"}],
        "rules": {"paths": [str(RULES)]},
        "beheerders": [{"name": "A. Voorbeeld", "email": "a.voorbeeld@example.org"}],
        "notify": {"kind": "drop_folder", "drop_folder": {"path": "outbox"}},
        "service": {"health_listen": None},
    }
    if corsa_url is not None:
        data["task_sink"] = corsa_task_sink(corsa_url, timeout_seconds=60, retry_attempts=1)
    else:
        data["task_sink"] = {"kind": "drop_folder", "drop_folder": {"path": "corsa-drop"}}
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    path = tmp / "imi-mailwatch.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def sample_maildir(tmp: Path) -> Path:
    """The demo's sample alerts as a Maildir at ``tmp/mailbox``."""
    make_maildir(tmp / "mailbox", sample_mailbox(), start=1763280000)
    return tmp / "mailbox"


def cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``imi-mailwatch ARGS`` in a child process with the synthetic secrets set."""
    return subprocess.run(
        [sys.executable, "-m", "imi_mailwatch", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **ENVIRON},
        check=False,
    )


class DaemonProcess:
    """``imi-mailwatch run`` as a child process; its JSON log lines are collected."""

    def __init__(self, config: Path, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "imi_mailwatch", "run", "-c", str(config)],
            cwd=config.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **ENVIRON, **(env or {})},
        )
        self.lines: list[str] = []
        self.events: list[dict[str, Any]] = []
        self._new: queue.Queue[dict[str, Any]] = queue.Queue()
        self.stderr = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            try:
                event = json.loads(line)
            except ValueError:
                continue
            self.events.append(event)
            self._new.put(event)

    def wait_for(
        self, name: str, where: Callable[[dict[str, Any]], bool] = lambda e: True
    ) -> dict[str, Any]:
        """The first (earlier or future) log event called ``name`` that satisfies ``where``."""
        for event in list(self.events):
            if event.get("event") == name and where(event):
                return event
        while True:
            try:
                event = self._new.get(timeout=WAIT)
            except queue.Empty:
                log = "".join(self.lines)
                raise AssertionError(f"no {name} event; log so far:\n{log}") from None
            if event.get("event") == name and where(event):
                return event

    def signal(self, signum: signal.Signals = signal.SIGTERM) -> None:
        self.proc.send_signal(signum)

    def wait_exit(self) -> int:
        """The exit code; the rest of stdout and stderr are collected."""
        code = self.proc.wait(timeout=WAIT)
        self._reader.join(timeout=WAIT)
        assert self.proc.stderr is not None
        self.stderr = self.proc.stderr.read()
        return code

    def named(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") == name]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=WAIT)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def http_get(url: str) -> tuple[int, str]:
    """GET ``url``: (status, body); HTTP errors are answers too."""
    try:
        with urllib.request.urlopen(url, timeout=WAIT) as resp:
            return resp.status, resp.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")
