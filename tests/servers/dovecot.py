"""A throw-away Dovecot IMAP server on loopback, for integration tests and benchmarks.

``DovecotServer`` writes its own configuration under a fresh ``tempfile.mkdtemp()``
directory in /tmp (when run as root the server runs as ``nobody``, which cannot
enter pytest's 0700 tmp_path), starts ``/usr/sbin/dovecot`` on a free port and
offers what tests need: append, restart, kick (a server BYE), kill a session's
``imap`` process (a silent drop), change a folder's UIDVALIDITY, and stop.

Options:
- ``tls=True`` creates a self-signed certificate (``cert_file``; it is its own CA,
  so ``ca_file=server.cert_file`` trusts it) and opens an IMAPS port
  (``imaps_port``); the plain port then offers STARTTLS.
- ``drop_capabilities={"MOVE"}`` advertises Dovecot's capability list without
  these (Dovecot's ``imap_capability`` setting), for the no-MOVE fallback or the
  no-IDLE poll fallback.
- ``idle_notify_seconds=86400`` sets Dovecot's IDLE keep-alive (``* OK Still
  here``, ``imap_idle_notify_interval``, 2 minutes by default): a day imitates a
  server that sends none, so nothing but real news ends an IDLE.

The user is ``testuser`` with password ``testpass`` (or ``password=...``); XOAUTH2
accepts the password as the bearer token, so ``password="token-0001"`` lets in the
first token that the Entra test server (tests/servers/graph_server.py) issues.
Usage in a test module::

    from tests.servers.dovecot import dovecot_server  # noqa: F401  (the fixture)

    def test_x(dovecot_server): ...

or build one directly: ``with DovecotServer(tls=True) as server: ...``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from imapclient import IMAPClient

DOVECOT = "/usr/sbin/dovecot"
DOVEADM = "/usr/bin/doveadm"
USER = "testuser"
PASSWORD = "testpass"

# What Dovecot 2.3 advertises after login; drop_capabilities removes from this.
_DEFAULT_CAPABILITIES = (
    "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES "
    "THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN "
    "NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES "
    "WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW "
    "STATUS=SIZE SAVEDATE LITERAL+ NOTIFY SPECIAL-USE"
)


def dovecot_available() -> bool:
    """True when the Dovecot binaries are installed (Debian package dovecot-imapd)."""
    return os.access(DOVECOT, os.X_OK) and os.access(DOVEADM, os.X_OK)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_message(
    n: int,
    *,
    subject: str | None = None,
    message_id: str | None = None,
    body: str = "Synthetic test message.\r\n",
) -> bytes:
    """A small synthetic RFC 5322 message numbered ``n`` (no real personal data)."""
    mid = message_id or f"<test-{n}@example.invalid>"
    return (
        "From: Sender <sender@example.invalid>\r\n"
        "To: Inbox <inbox@example.invalid>\r\n"
        f"Subject: {subject or f'Test message {n}'}\r\n"
        f"Message-ID: {mid}\r\n"
        "Date: Sun, 01 Nov 2026 10:00:00 +0000\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        f"{body}"
    ).encode()


class DovecotServer:
    """One Dovecot instance with one user, Maildir storage, on 127.0.0.1."""

    def __init__(
        self,
        *,
        tls: bool = False,
        drop_capabilities: Iterable[str] = (),
        idle_check_seconds: int = 1,
        idle_notify_seconds: int | None = None,
        password: str = PASSWORD,
    ) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="imi-dovecot-", dir="/tmp"))
        self.port = free_port()
        self.imaps_port = free_port() if tls else 0
        self.tls = tls
        self.drop_capabilities = {c.upper() for c in drop_capabilities}
        self.idle_check_seconds = idle_check_seconds
        self.idle_notify_seconds = idle_notify_seconds
        self.cert_file = str(self.dir / "cert.pem")
        self.key_file = str(self.dir / "key.pem")
        self.host = "127.0.0.1"
        self.user = USER
        self.password = password
        self._runas = "nobody" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        self._master_pid: int | None = None
        self._write_config()

    # -- life cycle ---------------------------------------------------------------

    @property
    def conf(self) -> str:
        return str(self.dir / "dovecot.conf")

    @property
    def maildir(self) -> Path:
        return self.dir / "home" / USER / "Maildir"

    def _write_config(self) -> None:
        for sub in ("run", "state", "home"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        (self.dir / "passwd").write_text(
            f"{USER}:{{PLAIN}}{self.password}::::{self.dir}/home/{USER}\n"
        )
        ssl_block = "ssl = no"
        if self.tls:
            subprocess.run(
                [
                    "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", self.key_file, "-out", self.cert_file,
                ],
                check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            ssl_block = f"ssl = yes\nssl_cert = <{self.cert_file}\nssl_key = <{self.key_file}"
        caps = ""
        if self.drop_capabilities:
            kept = [c for c in _DEFAULT_CAPABILITIES.split() if c not in self.drop_capabilities]
            caps = "imap_capability = " + " ".join(kept)
        notify = ""
        if self.idle_notify_seconds is not None:
            notify = f"imap_idle_notify_interval = {self.idle_notify_seconds} secs"
        group = _group_name(self._runas)
        (self.dir / "dovecot.conf").write_text(
            f"""
protocols = imap
listen = 127.0.0.1
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.dir}/dovecot.log
instance_name = dovecot-test-{self.port}
{ssl_block}
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
default_internal_user = {self._runas}
default_internal_group = {group}
default_login_user = {self._runas}
mail_location = maildir:~/Maildir
mailbox_idle_check_interval = {self.idle_check_seconds} secs
mail_fsync = never
{caps}
{notify}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.dir}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {self.dir}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.imaps_port}
  }}
}}
service anvil {{
  chroot =
}}
namespace inbox {{
  inbox = yes
}}
"""
        )
        self._chown()

    def _chown(self) -> None:
        if os.geteuid() != 0:
            return
        pw = pwd.getpwnam(self._runas)
        for root, dirs, files in os.walk(self.dir):
            for name in [*dirs, *files]:
                os.lchown(os.path.join(root, name), pw.pw_uid, pw.pw_gid)
        os.chown(self.dir, pw.pw_uid, pw.pw_gid)

    def _as_user(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", self._runas, "--", *argv] if os.geteuid() == 0 else argv

    def start(self) -> DovecotServer:
        """Start the master and wait until the IMAP port accepts connections."""
        (self.dir / "run" / "master.pid").unlink(missing_ok=True)
        with open(self.dir / "startup.err", "wb") as err:
            # the daemon must not inherit a captured stdout/stderr, or the caller hangs
            proc = subprocess.run(
                self._as_user([DOVECOT, "-c", self.conf]),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, check=False,
            )  # fmt: skip
        if proc.returncode != 0:
            raise RuntimeError(
                "dovecot did not start: " + (self.dir / "startup.err").read_text(errors="replace")
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pid_file = self.dir / "run" / "master.pid"
            if pid_file.exists() and pid_file.read_text().strip() and self._port_open(self.port):
                self._master_pid = int(pid_file.read_text().strip())
                return self
            time.sleep(0.02)
        raise RuntimeError("dovecot did not start listening within 10 s")

    def _port_open(self, port: int) -> bool:
        with contextlib.suppress(OSError), socket.create_connection((self.host, port), 0.5):
            return True
        return False

    def _children(self) -> list[tuple[int, str]]:
        """(pid, command name) of the master's child processes."""
        found: list[tuple[int, str]] = []
        if self._master_pid is None:
            return found
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            comm = stat[stat.index("(") + 1 : stat.rindex(")")]
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
            if ppid == self._master_pid:
                found.append((int(entry), comm))
        return found

    def stop(self) -> None:
        """Stop the master and every process it started (sessions included)."""
        if self._master_pid is None:
            return
        children = [pid for pid, _ in self._children()]
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._master_pid, signal.SIGTERM)
        deadline = time.monotonic() + 0.5  # a graceful stop takes seconds: not needed here
        while time.monotonic() < deadline and _alive(self._master_pid):
            time.sleep(0.02)
        for pid in [self._master_pid, *children]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._master_pid = None
        # wait for the port to be free again so that a restart can bind it
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self._port_open(self.port):
            time.sleep(0.02)

    def restart(self) -> None:
        """Stop and start again on the same ports and storage (sessions are dropped)."""
        self.stop()
        self.start()

    def cleanup(self) -> None:
        """Stop and remove the directory."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> DovecotServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    def imap_settings(self, env: str = "IMI_IMAP_PASSWORD", **more: Any) -> dict[str, Any]:
        """A mailbox's ``imap:`` settings for this instance (the password read from the
        environment variable ``env``), with ``more`` added or overriding."""
        return {
            "host": self.host,
            "port": self.port,
            "security": "none",
            "username": self.user,
            "password": {"env": env},
            "first_start": "all",
            **more,
        }

    # -- disturbances -------------------------------------------------------------

    def doveadm(self, *args: str) -> str:
        """Run a doveadm command against this instance and return its output."""
        proc = subprocess.run(
            self._as_user([DOVEADM, "-c", self.conf, *args]),
            stdin=subprocess.DEVNULL, capture_output=True, check=False, timeout=30,
        )  # fmt: skip
        if proc.returncode != 0:
            raise RuntimeError(f"doveadm {args[0]} failed: {proc.stderr.decode(errors='replace')}")
        return proc.stdout.decode(errors="replace")

    def kick(self) -> None:
        """Disconnect every session of the test user with a server BYE."""
        self.doveadm("kick", USER)

    def session_pids(self) -> list[int]:
        """PIDs of the per-session ``imap`` processes."""
        return [pid for pid, comm in self._children() if comm == "imap"]

    def kill_sessions(self) -> int:
        """SIGKILL every session process: the client gets no BYE. Returns how many."""
        pids = self.session_pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return len(pids)

    def set_uidvalidity(self, folder: str, value: int) -> None:
        """Give ``folder`` a new UIDVALIDITY (sessions that selected it are dropped)."""
        self.doveadm("mailbox", "update", "-u", USER, "--uid-validity", str(value), folder)

    # -- mail ---------------------------------------------------------------------

    def client(self, timeout: float = 30) -> IMAPClient:
        """A logged-in plain-text client (for the tests' own set-up and checks)."""
        c = IMAPClient(self.host, port=self.port, ssl=False, timeout=timeout)
        c.login(USER, self.password)
        return c

    def append(
        self,
        messages: Iterable[bytes],
        folder: str = "INBOX",
        *,
        msg_time: datetime | None = None,
    ) -> int:
        """APPEND messages to ``folder`` (created when missing); returns how many."""
        count = 0
        with contextlib.closing(_Closing(self.client())) as holder:
            c = holder.client
            if not c.folder_exists(folder):
                c.create_folder(folder)
            batch: list[bytes] = []
            for data in messages:
                batch.append(data)
                if len(batch) >= 200:
                    count += self._append_batch(c, folder, batch, msg_time)
                    batch = []
            if batch:
                count += self._append_batch(c, folder, batch, msg_time)
        return count

    @staticmethod
    def _append_batch(
        c: IMAPClient, folder: str, batch: list[bytes], msg_time: datetime | None
    ) -> int:
        if msg_time is None:
            c.multiappend(folder, batch)
        else:
            for data in batch:
                c.append(folder, data, msg_time=msg_time)
        return len(batch)

    def write_maildir(self, messages: Iterable[bytes], folder: str = "INBOX") -> int:
        """Drop messages straight into the Maildir (fast for large mailboxes)."""
        base = self.maildir if folder == "INBOX" else self.maildir / ("." + folder)
        for sub in ("new", "cur", "tmp"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        stamp = int(time.time())
        count = 0
        for i, data in enumerate(messages):
            (base / "new" / f"{stamp}.M{i}P{os.getpid()}.bench").write_bytes(data)
            count += 1
        self._chown()
        return count

    def folder_uids(self, folder: str) -> list[int]:
        """The UIDs in ``folder`` (empty when the folder does not exist; ``/`` paths work)."""
        folder = server_folder(folder)
        with contextlib.closing(_Closing(self.client())) as holder:
            c = holder.client
            if not c.folder_exists(folder):
                return []
            c.select_folder(folder, readonly=True)
            return sorted(int(u) for u in c.search("ALL"))

    def folder_message_ids(self, folder: str) -> list[str]:
        """The Message-ID headers in ``folder``, in UID order."""
        folder = server_folder(folder)
        with contextlib.closing(_Closing(self.client())) as holder:
            c = holder.client
            if not c.folder_exists(folder):
                return []
            c.select_folder(folder, readonly=True)
            uids = c.search("ALL")
            if not uids:
                return []
            got = c.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
            out = []
            for uid in sorted(got):
                raw = got[uid][b"BODY[HEADER.FIELDS (MESSAGE-ID)]"].decode().strip()
                out.append(raw.split(":", 1)[1].strip())
            return out

    def flags(self, folder: str) -> dict[int, tuple[bytes, ...]]:
        """UID -> flags in ``folder``."""
        folder = server_folder(folder)
        with contextlib.closing(_Closing(self.client())) as holder:
            c = holder.client
            c.select_folder(folder, readonly=True)
            uids = c.search("ALL")
            got = c.fetch(uids, ["FLAGS"]) if uids else {}
            return {int(u): tuple(v[b"FLAGS"]) for u, v in got.items()}

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's self-signed certificate."""
        return ssl.create_default_context(cafile=self.cert_file)


def server_folder(folder: str) -> str:
    """A configured folder path (``IMI/Verwerkt``) as this Dovecot names it (``IMI.Verwerkt``)."""
    return folder.replace("/", ".")


class _Closing:
    def __init__(self, client: IMAPClient) -> None:
        self.client = client

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.logout()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (our own child) counts as gone
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def _group_name(user: str) -> str:
    import grp

    return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name


_MISSING = "Dovecot is not installed (apt-get install dovecot-imapd; `make test` does this)"
requires_dovecot = pytest.mark.skipif(not dovecot_available(), reason=_MISSING)


@pytest.fixture
def dovecot_server() -> Iterator[DovecotServer]:
    """A started plain-text Dovecot for one test; stopped and removed afterwards."""
    if not dovecot_available():
        pytest.skip(_MISSING)
    server = DovecotServer()
    try:
        yield server.start()
    finally:
        server.cleanup()
