"""The factories build the Graph and EWS adapters from configuration data."""

from __future__ import annotations

import tempfile
import threading

from imi_mailwatch.adapters import make_mail_source, make_notifier
from imi_mailwatch.adapters.ews import EwsMailSource
from imi_mailwatch.adapters.graph import GraphMailSource
from imi_mailwatch.adapters.graph_send import GraphNotifier
from imi_mailwatch.adapters.memory import InMemoryCursorStore
from imi_mailwatch.config import Config, config_from_data
from imi_mailwatch.model import Disposition, OutgoingMail
from tests.m365.conftest import FakeClock, mime, oauth_data
from tests.servers.ews_server import EwsServer
from tests.servers.graph_server import GraphServer


def test_graph_mailbox_and_notifier_from_configuration(graph: GraphServer) -> None:
    """kind: graph and notify.kind: graph give working Graph adapters."""
    graph_block = {
        "mailbox": graph.mailbox.address,
        "base_url": graph.graph_url,
        "ca_file": graph.ca_file,
        "first_start": "all",
        "oauth": oauth_data(graph),
    }
    cfg = config_from_data(
        {
            "mailboxes": [{"name": "m365", "kind": "graph", "graph": graph_block}],
            "notify": {
                "kind": "graph",
                "from_address": graph.mailbox.address,
                "graph": graph_block,
            },
        },
        environ={"APP_SECRET": graph.client_secret},
        base_dir=tempfile.mkdtemp(prefix="wiring-"),
    )
    clock = FakeClock()
    src = make_mail_source(cfg, cfg.mailboxes[0], cursors=InMemoryCursorStore(), clock=clock)
    assert isinstance(src, GraphMailSource)
    mid = graph.deliver(mime(1))
    (msg,) = list(src.fetch())
    src.acknowledge(msg, Disposition.HANDLED)
    assert [m.id for m in graph.messages_in("IMI/Verwerkt")] == [mid]
    src.close()
    notifier = make_notifier(cfg, clock=clock)
    assert isinstance(notifier, GraphNotifier)
    notifier.send(
        OutgoingMail(message_id="<w@example.test>", to=("a@example.test",), subject="s", text="t")
    )
    assert len(graph.sent) == 1


def _ews_config(ews: EwsServer) -> Config:
    """A configuration with one EWS mailbox on ``ews`` (basic authentication)."""
    ews_block = {
        "service_endpoint": ews.endpoint,
        "mailbox": ews.address,
        "username": ews.username,
        "auth": "basic",
        "password": {"env": "EWS_PASSWORD"},
        "ca_file": ews.ca_file,
        "first_start": "all",
    }
    return config_from_data(
        {"mailboxes": [{"name": "onprem", "kind": "ews", "ews": ews_block}]},
        environ={"EWS_PASSWORD": ews.password},
        base_dir=tempfile.mkdtemp(prefix="wiring-"),
    )


def test_ews_mailbox_from_configuration() -> None:
    """kind: ews gives a working EWS source."""
    with EwsServer() as ews:
        cfg = _ews_config(ews)
        src = make_mail_source(
            cfg, cfg.mailboxes[0], cursors=InMemoryCursorStore(), clock=FakeClock()
        )
        assert isinstance(src, EwsMailSource)
        ews.deliver(mime(1))
        assert len(list(src.fetch())) == 1
        src.close()


def test_a_stop_request_cuts_a_retry_after_wait_short(graph: GraphServer) -> None:
    """A long Retry-After does not hold up shutdown: the wait ends when stop is set."""
    import time

    graph_block = {
        "mailbox": graph.mailbox.address,
        "base_url": graph.graph_url,
        "ca_file": graph.ca_file,
        "first_start": "all",
        "max_retry_after_seconds": 120,
        "oauth": oauth_data(graph),
    }
    cfg = config_from_data(
        {"mailboxes": [{"name": "m365", "kind": "graph", "graph": graph_block}]},
        environ={"APP_SECRET": graph.client_secret},
        base_dir=tempfile.mkdtemp(prefix="wiring-"),
    )
    stop = threading.Event()
    src = make_mail_source(
        cfg, cfg.mailboxes[0], cursors=InMemoryCursorStore(), clock=FakeClock(), stop=stop
    )
    graph.deliver(mime(1))
    graph.throttle(1, 429, retry_after=100)
    threading.Timer(0.5, stop.set).start()
    started = time.monotonic()
    (msg,) = list(src.fetch())  # the wait ends early; the retry then succeeds
    assert time.monotonic() - started < 100  # shorter than the Retry-After it was given
    assert msg.data
    src.close()


class _RecordingStop(threading.Event):
    """A stop flag that notes every wait on it and never blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        return self.is_set()


def test_a_stop_request_cuts_an_ews_busy_wait_short() -> None:
    """EWS's ErrorServerBusy back-off waits on the stop flag, as Graph's Retry-After does,
    so a stop request does not wait for it."""
    with EwsServer() as ews:
        cfg = _ews_config(ews)
        stop = _RecordingStop()
        src = make_mail_source(
            cfg, cfg.mailboxes[0], cursors=InMemoryCursorStore(), clock=FakeClock(), stop=stop
        )
        ews.deliver(mime(1))
        ews.busy(1)
        assert len(list(src.fetch())) == 1  # the retry after the back-off succeeds
        src.close()
        assert stop.waits == [2.0]  # the server's BackOffMilliseconds, waited on the flag
