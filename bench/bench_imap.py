"""IMAP mail source benchmarks against a real Dovecot on loopback, side by side in one run.

    .venv/bin/python bench/bench_imap.py [--backlog 5000] [--backlog-rounds 3] [--latency 60]
        [--burst 100] [--memory-seconds 120] [--only latency|burst|backlog|poll|memory ...]

Measures
1. latency from APPEND to recorded outcome while the source IDLEs (p50, p95); in
   the burst mode each message is appended the moment the previous one is
   recorded, so arrivals fall anywhere in the source's cycle (moves, cursor,
   NOOP + UID SEARCH, IDLE), against a Dovecot without IDLE keep-alives and
   the daemon's wait of 300 s: a wake-up the source misses shows as a stall;
2. backlog throughput: the floor (bare imapclient UID FETCH BODY.PEEK[] of the same
   messages in batches), getmail6 retrieving the same mailbox into a Maildir, and
   ImapMailSource with the SQLite state store (record + acknowledge); the floor, the
   source alone and the pipeline in interleaved rounds (medians), the pipeline's CPU
   time beside;
3. one idle poll (fetch with nothing new, then wait(0)) on a 100,000 against a
   1,000-message mailbox, both served at once and measured in alternating rounds
   (median of the rounds), beside a bare NOOP + UID SEARCH as the floor;
4. resident memory of a long run with steady delivery.

The "pipeline" here is the daemon's minimum around the source: look up by
Message-ID + content hash, record the outcome in SQLite, acknowledge, mark it
acknowledged. getmail6 is needed for the comparison only (``pip install getmail6``);
it is no dependency of the project. Needs /usr/sbin/dovecot (dovecot-imapd).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import structlog
from imapclient import IMAPClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from imi_mailwatch.adapters.imap import ImapMailSource
from imi_mailwatch.adapters.memory import InMemoryTaskSink
from imi_mailwatch.adapters.sqlite import SqliteStateStore
from imi_mailwatch.clock import SystemClock
from imi_mailwatch.config import ImapConfig
from imi_mailwatch.daemon import _batches
from imi_mailwatch.model import Classification, Disposition, MessageKind, RawMessage
from imi_mailwatch.outbox import TaskOutbox
from imi_mailwatch.pipeline import Pipeline
from imi_mailwatch.records import MessageEntry
from tests.servers.dovecot import DovecotServer, make_message

BODY = "Synthetic benchmark message with some text.\r\n" * 40  # about 2 KB, like an alert


def quiet_logs() -> None:
    """Production-like logging (INFO, JSON) written to /dev/null, so it costs what it costs."""
    structlog.configure(
        processors=[
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.PrintLoggerFactory(file=open(os.devnull, "w")),  # noqa: SIM115
        cache_logger_on_first_use=True,
    )


def config(server: DovecotServer, **extra: object) -> ImapConfig:
    data: dict[str, object] = {
        "host": server.host,
        "port": server.port,
        "security": "none",
        "username": server.user,
        "password": {"env": "PW"},
        "timeout_seconds": 30,
        "first_start": "all",
    }
    data.update(extra)
    return ImapConfig.model_validate(data, context={"environ": {"PW": server.password}})


@contextlib.contextmanager
def source(
    server: DovecotServer, name: str = "bench", **extra: object
) -> Iterator[tuple[ImapMailSource, SqliteStateStore]]:
    tmp = tempfile.mkdtemp(prefix="imi-bench-")
    store = SqliteStateStore(Path(tmp) / "state.sqlite3", SystemClock())
    src = ImapMailSource(
        name,
        config(server, **extra),
        folder="INBOX",
        processed_folder="IMI/Verwerkt",
        quarantine_folder="IMI/Quarantaine",
        rejected_folder="IMI/Afgewezen",
        cursors=store,
        clock=SystemClock(),
    )
    try:
        yield src, store
    finally:
        src.close()
        store.close()
        shutil.rmtree(tmp, ignore_errors=True)


def message_id(data: bytes) -> str:
    head = data.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        if line[:11].lower() == b"message-id:":
            return line[11:].strip().decode()
    return ""


def handle(
    src: ImapMailSource, store: SqliteStateStore, msg: RawMessage, disp: Disposition
) -> None:
    """The daemon's minimum: de-duplicate, record durably, acknowledge, mark acknowledged."""
    mid = message_id(msg.data)
    if store.find_message(src.name, mid, msg.content_hash) is not None:
        src.acknowledge(msg, disp)
        return
    row = store.record_message(
        MessageEntry(
            source=src.name, ref=msg.ref, message_id=mid, content_hash=msg.content_hash,
            kind=MessageKind.NOT_IMI, disposition=disp, reason=None, request_id=None,
            alert_type=None,
        )
    )  # fmt: skip
    src.acknowledge(msg, disp)
    store.mark_acknowledged(row)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


# -- 1. latency -------------------------------------------------------------------------


def bench_latency(count: int) -> dict[str, float]:
    with DovecotServer() as server, source(server, idle_renew_seconds=600) as (src, store):
        sent: dict[str, float] = {}
        done: dict[str, float] = {}
        stop = threading.Event()

        def loop() -> None:
            while not stop.is_set():
                for msg in src.fetch():
                    handle(src, store, msg, Disposition.HANDLED)
                    done[message_id(msg.data)] = time.perf_counter()
                src.wait(5.0, stop)

        list(src.fetch())
        t = threading.Thread(target=loop, daemon=True)
        t.start()
        time.sleep(1.0)
        with server.client() as c:
            for i in range(count):
                data = make_message(i, body=BODY)
                sent[message_id(data)] = time.perf_counter()
                c.append("INBOX", data)
                deadline = time.monotonic() + 10
                while message_id(data) not in done and time.monotonic() < deadline:
                    time.sleep(0.002)
                time.sleep(0.05)
        stop.set()
        t.join(10)
        lat = [done[k] - sent[k] for k in sent if k in done]
    return {
        "n": len(lat),
        "p50": statistics.median(lat),
        "p95": pct(lat, 95),
        "max": max(lat),
        "lost": count - len(lat),
    }


def bench_burst(count: int, patience: float) -> dict[str, float]:
    """APPEND each message as soon as the previous one is recorded; latency and stalls.

    The sender keeps INBOX selected, like a colleague's mail client on a shared
    mailbox: its session takes the \\Recent flag, so the source learns of new
    mail from EXISTS alone. A message still waiting after ``patience`` seconds
    is left waiting and the next one is sent (which wakes the source); its
    latency counts when it is recorded at last.
    """
    server = DovecotServer(idle_notify_seconds=86400)  # no "* OK Still here" to wake anyone
    with server, source(server, idle_renew_seconds=600) as (src, store):
        sent: dict[str, float] = {}
        done: dict[str, float] = {}
        recorded = threading.Condition()
        stop = threading.Event()

        def loop() -> None:
            while not stop.is_set():
                for msg in src.fetch():
                    handle(src, store, msg, Disposition.HANDLED)
                    with recorded:
                        done[message_id(msg.data)] = time.perf_counter()
                        recorded.notify_all()
                src.wait(300.0, stop)  # the daemon's wait

        list(src.fetch())
        t = threading.Thread(target=loop, daemon=True)
        t.start()
        time.sleep(1.0)
        with server.client() as c:
            c.select_folder("INBOX")
            for i in range(count):
                data = make_message(i, body=BODY)
                mid = message_id(data)
                sent[mid] = time.perf_counter()
                c.append("INBOX", data)
                c.noop()  # the colleague's client sees the message first
                with recorded:
                    recorded.wait_for(lambda mid=mid: mid in done, timeout=patience)
            with recorded:  # the last stalled ones
                recorded.wait_for(lambda: len(done) >= count, timeout=patience)
        stop.set()
        t.join(10)
        lat = [done[k] - sent[k] for k in sent if k in done]
    return {
        "n": len(lat),
        "p50": statistics.median(lat),
        "p95": pct(lat, 95),
        "max": max(lat),
        "stalls": sum(v > 1.0 for v in lat),
        "lost": count - len(lat),
    }


def bench_idle_floor(count: int) -> dict[str, float]:
    """The floor: a bare imapclient IDLE session, APPEND to the EXISTS it is told of."""
    lat: list[float] = []
    with DovecotServer() as server, server.client() as watcher, server.client() as sender:
        watcher.select_folder("INBOX")
        for i in range(count):
            watcher.idle()
            time.sleep(0.05)
            t0 = time.perf_counter()
            sender.append("INBOX", make_message(i, body=BODY))
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if any(len(r) > 1 and r[1] == b"EXISTS" for r in watcher.idle_check(1)):
                    lat.append(time.perf_counter() - t0)
                    break
            watcher.idle_done()
    return {"n": len(lat), "p50": statistics.median(lat), "p95": pct(lat, 95), "max": max(lat)}


# -- 2. backlog throughput --------------------------------------------------------------


def bench_floor(server: DovecotServer) -> float:
    t0 = time.perf_counter()
    c = IMAPClient(server.host, port=server.port, ssl=False)
    c.login(server.user, server.password)
    c.select_folder("INBOX", readonly=True)
    uids = c.search("ALL")
    n = 0
    for i in range(0, len(uids), 200):
        got = c.fetch(uids[i : i + 200], ["BODY.PEEK[]", "INTERNALDATE"])
        n += sum(len(v[b"BODY[]"]) > 0 for v in got.values())
    c.logout()
    return n / (time.perf_counter() - t0)


def bench_getmail(server: DovecotServer, total: int) -> float | None:
    exe = shutil.which("getmail") or str(Path(sys.executable).parent / "getmail")
    if not os.path.exists(exe):
        return None
    tmp = Path(tempfile.mkdtemp(prefix="imi-bench-getmail-"))
    for sub in ("new", "cur", "tmp"):
        (tmp / "out" / sub).mkdir(parents=True)
    rc = tmp / "getmailrc"
    rc.write_text(
        "[retriever]\ntype = SimpleIMAPRetriever\n"
        f"server = {server.host}\nport = {server.port}\n"
        f"username = {server.user}\npassword = {server.password}\n"
        'mailboxes = ("INBOX",)\n'
        f"[destination]\ntype = Maildir\npath = {tmp}/out/\n"
        + ("user = nobody\n" if os.geteuid() == 0 else "")  # getmail will not deliver as root
        + "[options]\nread_all = true\ndelete = false\nverbose = 0\n"
        "message_log_syslog = false\n"
    )
    if os.geteuid() == 0:
        tmp.chmod(0o755)
        shutil.chown(tmp / "out", "nobody")
        for sub in ("new", "cur", "tmp"):
            shutil.chown(tmp / "out" / sub, "nobody")
    t0 = time.perf_counter()
    subprocess.run(
        [exe, "--rcfile", str(rc), "--getmaildir", str(tmp)],
        check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, timeout=1800,
    )  # fmt: skip
    elapsed = time.perf_counter() - t0
    got = len(list((tmp / "out" / "new").iterdir()))
    shutil.rmtree(tmp, ignore_errors=True)
    if got != total:
        print(f"getmail6 retrieved {got} of {total}", file=sys.stderr)
    return got / elapsed


def bench_source(server: DovecotServer, disp: Disposition, *, record: bool) -> float:
    with source(server, name=f"bench-{disp.value}-{record}") as (src, store):
        t0 = time.perf_counter()
        n = 0
        for msg in src.fetch():
            if record:
                handle(src, store, msg, disp)
            else:
                src.acknowledge(msg, disp)
            n += 1
        return n / (time.perf_counter() - t0)


class OrdinaryMail:
    """Every message is ordinary mail (what the alert reader says of a non-IMI message)."""

    def classify(self, data: bytes) -> Classification:
        return Classification(MessageKind.NOT_IMI, "not an IMI alert", message_id=message_id(data))


PIPELINE_CPU: list[float] = []  # messages per CPU second of this process (not Dovecot's)


def bench_pipeline(server: DovecotServer) -> float:
    """The daemon's own path: fetch batches through Pipeline.handle_batch (group commit)."""
    with source(server, name="bench-pipeline") as (src, store):
        clock = SystemClock()
        pipeline = Pipeline(
            store=store,
            classifier=OrdinaryMail(),
            router=lambda: None,  # type: ignore[arg-type,return-value]
            outbox=TaskOutbox(store, InMemoryTaskSink(), clock),
            clock=clock,
            memo_template="",
            beheerders=(),
        )
        t0, cpu = time.perf_counter(), time.process_time()
        n = sum(len(pipeline.handle_batch(src, b)) for b in _batches(src.fetch()))
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu
        PIPELINE_CPU.append(n / cpu)
        return n / seconds


def bench_backlog(total: int, rounds: int) -> dict[str, float | None]:
    """The floor, the source alone and the pipeline in ``rounds`` interleaved rounds (their
    medians: load from elsewhere falls on all three alike); the other contenders once."""
    with DovecotServer() as server:
        server.append(make_message(i, body=BODY) for i in range(total))
        bench_floor(server)  # warm Dovecot's index and cache once, for every contender
        runs: dict[str, list[float]] = {"floor": [], "source_alone": [], "pipeline_ignored": []}
        for _ in range(rounds):
            runs["floor"].append(bench_floor(server))
            runs["source_alone"].append(bench_source(server, Disposition.IGNORED, record=False))
            runs["pipeline_ignored"].append(bench_pipeline(server))
        out: dict[str, float | None] = {k: statistics.median(v) for k, v in runs.items()}
        out |= {
            "getmail6": bench_getmail(server, total),
            "source_ignored": bench_source(server, Disposition.IGNORED, record=True),
            "source_handled": bench_source(server, Disposition.HANDLED, record=True),
        }
    return out


# -- 3. idle poll on a large mailbox ----------------------------------------------------


@contextlib.contextmanager
def poll_box(size: int) -> Iterator[tuple[Callable[[], None], Callable[[], None]]]:
    """A Dovecot holding ``size`` old messages; yields (one source poll, one bare floor poll)."""
    with DovecotServer() as server:
        server.write_maildir(make_message(i) for i in range(size))
        old = time.time() - 60 * 86400  # delivered two months ago
        for p in (server.maildir / "new").iterdir():
            os.utime(p, (old, old))
        with server.client(timeout=600) as c:
            c.select_folder("INBOX")  # let Dovecot index the Maildir first
        with (
            source(server, first_start="since_days", first_start_days=14) as (src, _),
            server.client(timeout=600) as bare,
        ):
            assert list(src.fetch()) == []
            bare.select_folder("INBOX")
            after = max(bare.search("ALL"))
            never = threading.Event()

            def poll() -> None:
                assert list(src.fetch()) == []
                src.wait(0, never)  # wait(0): the new-mail check, no sleeping

            def floor() -> None:  # the least a client can do: NOOP + UID SEARCH after the last
                bare.noop()
                bare.search(["UID", f"{after + 1}:*"])

            yield poll, floor


def bench_poll(small: int, large: int, polls: int, rounds: int = 10) -> dict[str, float]:
    """Median per-poll time on both mailboxes, measured in alternating rounds.

    Both servers run at once and the rounds alternate, so load from elsewhere on
    the machine falls on both sizes alike.
    """
    per_round = max(1, polls // rounds)
    times: dict[str, list[float]] = {k: [] for k in ("small", "large", "floor_s", "floor_l")}
    with poll_box(small) as (poll_s, floor_s), poll_box(large) as (poll_l, floor_l):
        for _ in range(rounds):
            for key, fn in (
                ("small", poll_s), ("large", poll_l), ("floor_s", floor_s), ("floor_l", floor_l)
            ):  # fmt: skip
                t0 = time.perf_counter()
                for _ in range(per_round):
                    fn()
                times[key].append((time.perf_counter() - t0) / per_round)
    return {k: statistics.median(v) for k, v in times.items()}


# -- 4. memory over a long run ----------------------------------------------------------


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def bench_memory(seconds: float, rate: float) -> dict[str, float]:
    samples: list[tuple[float, float]] = []
    handled = 0
    with DovecotServer() as server, source(server) as (src, store):
        stop = threading.Event()

        def deliver() -> None:
            i = 0
            with server.client() as c:
                while not stop.is_set():
                    c.append("INBOX", make_message(i, body=BODY))
                    i += 1
                    stop.wait(1 / rate)

        t = threading.Thread(target=deliver, daemon=True)
        t.start()
        start = time.monotonic()
        next_sample = start
        while time.monotonic() - start < seconds:
            for msg in src.fetch():
                handle(src, store, msg, Disposition.HANDLED)
                handled += 1
            if time.monotonic() >= next_sample:
                samples.append((time.monotonic() - start, rss_mb()))
                next_sample += max(1.0, seconds / 20)
            src.wait(1.0, stop)
        stop.set()
        t.join(5)
    first = samples[1][1] if len(samples) > 1 else samples[0][1]
    return {
        "handled": handled,
        "rss_start": first,
        "rss_end": samples[-1][1],
        "rss_max": max(s[1] for s in samples),
        "seconds": seconds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlog", type=int, default=5000)
    parser.add_argument(
        "--backlog-rounds", type=int, default=3, help="rounds of floor, source and pipeline"
    )
    parser.add_argument("--latency", type=int, default=60, help="messages for the latency run")
    parser.add_argument("--burst", type=int, default=100, help="messages for the burst run")
    parser.add_argument(
        "--burst-patience",
        type=float,
        default=10.0,
        help="seconds a burst message may wait before the next one is sent anyway",
    )
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--polls", type=int, default=1000)
    parser.add_argument("--memory-seconds", type=float, default=120)
    parser.add_argument("--memory-rate", type=float, default=20, help="messages per second")
    parser.add_argument(
        "--only",
        choices=["latency", "burst", "backlog", "poll", "memory"],
        action="append",
        help="run only these parts (repeatable; default: all)",
    )
    args = parser.parse_args()
    parts = set(args.only or ["latency", "burst", "backlog", "poll", "memory"])
    if not os.access("/usr/sbin/dovecot", os.X_OK):
        print("needs /usr/sbin/dovecot (apt-get install dovecot-imapd)", file=sys.stderr)
        return 2
    quiet_logs()

    if "latency" in parts:
        floor_lat = bench_idle_floor(args.latency)
        print(
            f"latency floor, bare imapclient IDLE APPEND->EXISTS, n={floor_lat['n']}: "
            f"p50 {floor_lat['p50'] * 1000:.0f} ms, p95 {floor_lat['p95'] * 1000:.0f} ms"
        )
        lat = bench_latency(args.latency)
        print(
            f"latency APPEND->recorded (IDLE), n={lat['n']}: p50 {lat['p50'] * 1000:.0f} ms, "
            f"p95 {lat['p95'] * 1000:.0f} ms, max {lat['max'] * 1000:.0f} ms, lost {lat['lost']}"
        )
    if "burst" in parts:
        b = bench_burst(args.burst, args.burst_patience)
        print(
            f"burst APPEND->recorded, next APPEND when recorded, n={b['n']}: "
            f"p50 {b['p50'] * 1000:.0f} ms, p95 {b['p95'] * 1000:.0f} ms, "
            f"max {b['max'] * 1000:.0f} ms, stalls (> 1 s) {b['stalls']:.0f}, lost {b['lost']:.0f}"
        )
    if "backlog" in parts:
        bl = bench_backlog(args.backlog, args.backlog_rounds)
        floor = bl["floor"] or 1.0
        for key, label in [
            ("floor", "floor: imapclient UID FETCH BODY.PEEK[] x200"),
            ("getmail6", "getmail6 6.x into a Maildir"),
            ("source_alone", "ImapMailSource fetch + acknowledge IGNORED, cursor in SQLite"),
            ("source_ignored", "ImapMailSource + SQLite record, IGNORED (no move)"),
            ("pipeline_ignored", "Pipeline.handle_batch, ordinary mail (group commit)"),
            ("source_handled", "ImapMailSource + SQLite record, HANDLED (MOVE)"),
        ]:
            v = bl[key]
            shown = (
                "n/a (getmail6 not installed)"
                if v is None
                else f"{v:,.0f} msg/s ({v / floor:.2f} x floor)"
            )
            print(f"backlog {args.backlog}: {label}: {shown}")
            if key == "pipeline_ignored" and PIPELINE_CPU:
                print(
                    f"backlog {args.backlog}:   (its CPU time alone, Dovecot's aside, would "
                    f"allow {statistics.median(PIPELINE_CPU):,.0f} msg/s)"
                )
    if "poll" in parts:
        poll = bench_poll(args.small, args.large, args.polls)
        print(
            f"idle poll (fetch + wait(0)): {args.small:,} msgs {poll['small'] * 1000:.2f} ms, "
            f"{args.large:,} msgs {poll['large'] * 1000:.2f} ms, "
            f"ratio {poll['large'] / poll['small']:.2f}"
        )
        print(
            f"idle poll floor (bare NOOP + UID SEARCH): {args.small:,} msgs "
            f"{poll['floor_s'] * 1000:.2f} ms, "
            f"{args.large:,} msgs {poll['floor_l'] * 1000:.2f} ms, "
            f"ratio {poll['floor_l'] / poll['floor_s']:.2f}"
        )
    if "memory" in parts:
        mem = bench_memory(args.memory_seconds, args.memory_rate)
        print(
            f"memory over {mem['seconds']:.0f} s, {mem['handled']:.0f} messages handled: RSS "
            f"{mem['rss_start']:.1f} MB after start, {mem['rss_end']:.1f} MB at the end, "
            f"max {mem['rss_max']:.1f} MB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
