"""EwsMailSource with exchangelib against an EWS SOAP server on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from structlog.testing import capture_logs

from imi_mailwatch.adapters.ews import EwsMailSource
from imi_mailwatch.config import EwsConfig
from imi_mailwatch.errors import MailSourceRejectedError, MailSourceUnavailableError
from imi_mailwatch.model import Disposition
from tests.m365.conftest import NOW, FakeClock, MemoryCursorStore, RecordingSleep, mime
from tests.servers.ews_server import EwsServer


def ews_config(srv: EwsServer, password: str | None = None, **overrides: object) -> EwsConfig:
    data: dict[str, object] = {
        "service_endpoint": srv.endpoint,
        "mailbox": srv.address,
        "username": srv.username,
        "auth": "basic",
        "password": {"env": "EWS_PASSWORD"},
        "ca_file": srv.ca_file,
        "first_start": "all",
        "page_size": 2,
    }
    data.update(overrides)
    env = {"EWS_PASSWORD": password if password is not None else srv.password}
    return EwsConfig.model_validate(data, context={"environ": env})


@pytest.fixture
def ews() -> Iterator[EwsServer]:
    with EwsServer() as server:
        yield server


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def make_source(
    ews: EwsServer, cursors: MemoryCursorStore, clock: FakeClock, sleep: RecordingSleep
) -> Iterator[object]:
    made: list[EwsMailSource] = []

    def make(password: str | None = None, **overrides: object) -> EwsMailSource:
        src = EwsMailSource(
            "onprem",
            ews_config(ews, password, **overrides),
            cursors=cursors,
            clock=clock,
            sleep=sleep,
        )
        made.append(src)
        return src

    yield make
    for src in made:
        src.close()


def deliver(ews: EwsServer, count: int, start: int = 0) -> list[str]:
    return [
        ews.deliver(mime(n), received=NOW - timedelta(hours=1) + timedelta(minutes=n))
        for n in range(start, start + count)
    ]


def test_fetch_yields_oldest_first_with_mime(ews: EwsServer, make_source) -> None:
    """Five messages, synced two changes at a time, come oldest first with raw MIME."""
    ids = deliver(ews, 5)
    src = make_source()
    got = list(src.fetch())
    assert [m.ref for m in got] == ids
    assert got[0].data == mime(0)
    assert ews.calls.count("SyncFolderItems") == 3


def test_acknowledge_moves_per_disposition(ews: EwsServer, make_source) -> None:
    """Each disposition lands in its created folder; IGNORED stays; nothing deleted."""
    deliver(ews, 4)
    src = make_source()
    msgs = list(src.fetch())
    disps = [
        Disposition.HANDLED,
        Disposition.QUARANTINED,
        Disposition.REJECTED,
        Disposition.IGNORED,
    ]
    for m, d in zip(msgs, disps, strict=True):
        src.acknowledge(m, d)
    assert [i.mime for i in ews.items_in("IMI/Verwerkt")] == [mime(0)]
    assert [i.mime for i in ews.items_in("IMI/Quarantaine")] == [mime(1)]
    assert [i.mime for i in ews.items_in("IMI/Afgewezen")] == [mime(2)]
    assert [i.mime for i in ews.items_in("inbox")] == [mime(3)]
    assert len(ews.box.items) == 4
    assert list(src.fetch()) == []
    src.acknowledge(msgs[0], Disposition.HANDLED)  # again: no error


def test_restart_mid_batch(ews: EwsServer, make_source, cursors: MemoryCursorStore) -> None:
    """After a crash a new instance yields exactly the unacknowledged messages."""
    ids = deliver(ews, 4)
    first = make_source()
    msgs = list(first.fetch())
    first.acknowledge(msgs[0], Disposition.HANDLED)
    first.acknowledge(msgs[1], Disposition.IGNORED)
    first.close()
    second = make_source()
    again = list(second.fetch())
    assert [m.ref for m in again] == ids[2:]
    for m in again:
        second.acknowledge(m, Disposition.HANDLED)
    assert json.loads(cursors.get_cursor("onprem", "INBOX") or "{}")["done"] == []
    new = deliver(ews, 1, start=9)
    assert [m.ref for m in second.fetch()] == new


def test_server_busy_is_waited_out(ews: EwsServer, make_source, sleep: RecordingSleep) -> None:
    """ErrorServerBusy with BackOffMilliseconds is slept off, then the call succeeds."""
    ids = deliver(ews, 1)
    src = make_source()
    src._acct()
    ews.busy(1)
    with capture_logs() as logs:
        assert [m.ref for m in src.fetch()] == ids
    assert sleep.waits == [2.0]
    assert any(e["event"] == "ews.throttled" for e in logs)


def test_server_busy_for_long_is_transient(ews: EwsServer, make_source) -> None:
    """A server that stays busy makes the round fail as unavailable."""
    deliver(ews, 1)
    src = make_source()
    src._acct()
    ews.busy(5)
    with pytest.raises(MailSourceUnavailableError, match="busy"):
        list(src.fetch())


def test_invalid_sync_state_resynchronises(ews: EwsServer, make_source) -> None:
    """ErrorInvalidSyncStateData starts a full sync; moved mail stays out, new mail comes."""
    ids = deliver(ews, 2)
    src = make_source()
    a, b = list(src.fetch())
    src.acknowledge(a, Disposition.HANDLED)
    src.acknowledge(b, Disposition.IGNORED)
    new = deliver(ews, 1, start=5)
    ews.reset_sync()
    with capture_logs() as logs:
        refs = [m.ref for m in src.fetch()]
    assert any(e["event"] == "ews.sync_reset" for e in logs)
    assert refs == [ids[1], *new]


def test_wrong_password_is_rejected(ews: EwsServer, make_source) -> None:
    """A refused password is a permanent error naming no secret."""
    src = make_source(password="wrong-password")
    with pytest.raises(MailSourceRejectedError) as info:
        list(src.fetch())
    assert "wrong-password" not in str(info.value)


def test_missing_watched_folder_is_rejected(ews: EwsServer, make_source) -> None:
    """A watched folder that does not exist is reported, not created."""
    src = EwsMailSource(
        "onprem",
        ews_config(ews),
        cursors=MemoryCursorStore(),
        clock=FakeClock(),
        folder="Bestaat/Niet",
    )
    with pytest.raises(MailSourceRejectedError, match="not found"):
        list(src.fetch())
    src.close()
    assert ews.folder_path("Bestaat") is None


def test_first_start_since_days(ews: EwsServer, make_source) -> None:
    """first_start since_days leaves older mail alone in the first round."""
    ews.deliver(mime(1), received=NOW - timedelta(days=40))
    recent = ews.deliver(mime(2), received=NOW - timedelta(days=2))
    src = make_source(first_start="since_days", first_start_days=14)
    assert [m.ref for m in src.fetch()] == [recent]


def test_oauth_uses_an_entra_token_and_renews_it(ews: EwsServer) -> None:
    """auth: oauth sends the msal token as Bearer; an expired one is replaced once."""
    from tests.m365.conftest import oauth_data
    from tests.servers.graph_server import GraphServer

    with GraphServer() as entra:
        ews.bearer_check = entra.token_valid
        cfg = EwsConfig.model_validate(
            {
                "service_endpoint": ews.endpoint,
                "mailbox": ews.address,
                "username": ews.address,
                "auth": "oauth",
                "oauth": oauth_data(entra),
                "ca_file": ews.ca_file,
                "first_start": "all",
            },
            context={"environ": {"APP_SECRET": entra.client_secret}},
        )
        ids = deliver(ews, 2)
        src = EwsMailSource("onprem", cfg, cursors=MemoryCursorStore(), clock=FakeClock())
        try:
            got = list(src.fetch())
            assert [m.ref for m in got] == ids
            entra.expire_tokens()
            src.acknowledge(got[0], Disposition.HANDLED)
            assert entra.tokens_issued == 2
            assert len(ews.items_in("IMI/Verwerkt")) == 1
        finally:
            src.close()


def test_server_gone_is_transient(ews: EwsServer, make_source) -> None:
    """An EWS server that stops answering gives MailSourceUnavailableError."""
    deliver(ews, 1)
    src = make_source()
    list(src.fetch())
    ews.stop()
    with pytest.raises(MailSourceUnavailableError):
        list(src.fetch())
