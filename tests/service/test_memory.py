"""Memory: the daemon renders its PDFs in a helper process and keeps no PDF stack itself."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.service.helpers import WAIT, sample_maildir, write_config
from tests.service.test_lifecycle import Spawn

REPO = Path(__file__).resolve().parents[2]
# compiled parts of Pillow and fontTools, which fpdf2 loads: seen in /proc/PID/maps
_PDF_STACK = ("/PIL/", "/fontTools/")


def _python(code: str, cwd: Path = REPO) -> list[str]:
    """The lines ``code`` prints, run by this interpreter in a fresh process."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=WAIT * 2,
        check=True,
    ).stdout.splitlines()


def _maps(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (waits up to WAIT seconds, a guard only)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":  # ended, its parent has not reaped it yet
            return True
        time.sleep(0.05)
    return False


def test_daemon_keeps_no_pdf_stack_after_creating_tasks(tmp_path: Path, daemons: Spawn) -> None:
    """Memory that is never freed: after PDFs were made the daemon has not loaded fpdf2's stack."""
    sample_maildir(tmp_path)
    config = write_config(tmp_path)
    d = daemons(config)
    started = d.wait_for("daemon.started")
    d.wait_for("message.handled", lambda e: "85_spoofed" in e["ref"])
    d.wait_for("task.created")
    pdfs = list((tmp_path / "corsa-drop").rglob("*.pdf"))
    assert pdfs and all(p.read_bytes().startswith(b"%PDF") for p in pdfs)
    maps = _maps(int(started["pid"]))
    assert not [part for part in _PDF_STACK if part in maps]


_SCRIPT = """
import dataclasses, sys
from imi_mailwatch import pdf
from imi_mailwatch.pdf_child import ChildRenderer
from tests.corsa.conftest import task_request
renderer = ChildRenderer(idle_seconds=float(sys.argv[1]))
pdf.set_renderer(renderer.render)
for n in range(3):
    assert pdf.render_task_pdf(task_request(f"12345{n}")).startswith(b"%PDF")
print(renderer.pid, "fpdf" in sys.modules, flush=True)
if sys.argv[2] == "idle":
    import time
    while renderer.pid is not None:
        time.sleep(0.05)
    print("idle-ended", flush=True)
    assert pdf.render_task_pdf(task_request("999999")).startswith(b"%PDF")
    print("fpdf" in sys.modules, flush=True)
"""


def test_pdf_helper_ends_when_its_daemon_is_killed() -> None:
    """No orphan: the PDF helper ends when the process that started it dies (its stdin closes)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _SCRIPT, "600", "kill"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    helper, loaded = proc.stdout.readline().split()
    assert loaded == "False"  # the PDFs were made, but not in this process
    proc.kill()
    proc.wait(timeout=WAIT)
    assert _gone(int(helper))


def test_pdf_helper_ends_when_idle_and_a_new_one_takes_over() -> None:
    """Memory is given back after a burst: the helper ends when idle; the next PDF starts one."""
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT, "0.2", "idle"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=True,
        env={**os.environ},
    ).stdout.split("\n")
    assert out[0].split()[1] == "False" and out[1] == "idle-ended"
    assert out[2] == "False"  # made by a new helper, not in this process


def test_daemon_imports_only_the_libraries_of_its_configured_adapters(tmp_path: Path) -> None:
    """Lazy adapters: a Maildir + drop-folder daemon loads no SOAP, EWS, Graph or IMAP library,
    and no calendar library before it sends its first reminder."""
    sample_maildir(tmp_path)
    config = write_config(tmp_path)
    code = (
        "import sys\n"
        "from imi_mailwatch.cli import main\n"
        f"code = main(['run', '--once', '-c', {str(config)!r}])\n"
        "print('MODULES', *sorted(m for m in sys.modules if '.' not in m), code)\n"
    )
    line = next(x for x in _python(code, cwd=tmp_path) if x.startswith("MODULES "))
    loaded = set(line.split()[1:-1])
    assert line.split()[-1] == "0"
    assert not loaded & {
        "zeep", "requests", "exchangelib", "msal", "imapclient", "httpx", "fpdf", "icalendar"
    }  # fmt: skip


def test_pdf_helper_gets_no_secrets_from_the_environment() -> None:
    """Least privilege: the PDF helper's environment holds no variable of the daemon's secrets."""
    env = {**os.environ, "IMI_CORSA_PASSWORD": "synthetic-secret-7f3a", "PATH": os.environ["PATH"]}
    proc = subprocess.Popen(
        [sys.executable, "-c", _SCRIPT, "600", "kill"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    try:
        helper = int(proc.stdout.readline().split()[0])
        environ = Path(f"/proc/{helper}/environ").read_bytes().split(b"\0")
    finally:
        proc.kill()
        proc.wait(timeout=WAIT)
    assert not [v for v in environ if b"synthetic-secret-7f3a" in v]
    assert any(v.startswith(b"PATH=") for v in environ)


def test_the_corsa_sink_does_not_load_httpx_which_only_zeeps_async_transport_needs() -> None:
    """zeep imports httpx (and through it click) for its AsyncTransport only: the Corsa
    sink keeps it out (2.5 MiB of the daemon); httpx imports as usual afterwards."""
    code = (
        "import sys\n"
        "import imi_mailwatch.adapters.corsa_soap\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('httpx', 'click')))\n"
        "import httpx, zeep.transports\n"
        "print(httpx.Client.__name__, zeep.transports.Transport.__name__)\n"
    )
    assert _python(code) == ["[]", "Client Transport"]


def test_import_without_leaves_a_loaded_module_alone() -> None:
    """Within ``import_without`` a module not loaded yet cannot be imported; one already
    loaded stays importable; after the block both import as usual."""
    code = (
        "import importlib, sys\n"
        "from imi_mailwatch.memory import import_without\n"
        "import json\n"
        "with import_without('json'), import_without('tomllib'):\n"
        "    importlib.import_module('json')\n"
        "    try:\n"
        "        importlib.import_module('tomllib')\n"
        "    except ImportError:\n"
        "        print('refused')\n"
        "print(importlib.import_module('tomllib').__name__)\n"
    )
    assert _python(code) == ["refused", "tomllib"]
