"""Fixtures for the Corsa task sink tests: a test server on loopback and a sink on it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date
from email.message import EmailMessage
from typing import Any

import pytest
import structlog

from imi_mailwatch.adapters.corsa_soap import CorsaSoapTaskSink
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.config_corsa import CorsaConfig
from imi_mailwatch.model import Alert, AlertType, TaskRequest, Team
from imi_mailwatch.testing.corsa_server import CorsaTestServer, start

UNITS = ("ORG-VTH", "ORG-ECO")
ENVIRON = {"CORSA_PASSWORD": "geheim", "CORSA_LICENCE": "TEST-LICENTIE"}
# the suite runs against each installation profile of the test server
PROFILES = ("documented", "production")
# what an installation of each profile needs in the configuration beyond the defaults
SENDER = {"poststuk.soort_ext": "O", "poststuk.relatie_id": "REL-IMI-BUITENLAND"}
PROFILE_CONFIG: dict[str, dict[str, Any]] = {
    "documented": {},
    "production": {"extra_fields": SENDER, "extra_references": {"kanaal": "EMAIL"}},
    "case": {
        "extra_fields": SENDER,
        "task_mode": "case",
        "case": {"doc_type": "IMI"},
    },
}


def corsa_config(url: str, **overrides: Any) -> CorsaConfig:
    """A CorsaConfig for the test server at ``url``."""
    data: dict[str, Any] = {
        "url": url,
        "username": "imi-mailwatch",
        "password": {"env": "CORSA_PASSWORD"},
        "license_key": {"env": "CORSA_LICENCE"},
        "timeout_seconds": 5,
        "retry_attempts": 2,
    }
    data.update(overrides)
    return CorsaConfig.model_validate(data, context={"environ": ENVIRON})


def alert_eml(request_id: str = "123456") -> bytes:
    """A synthetic IMI alert as .eml bytes."""
    msg = EmailMessage()
    msg["From"] = "no-reply@imi.example.eu"
    msg["To"] = "imi@example.nl"
    msg["Subject"] = f"IMI request {request_id}"
    msg["Message-ID"] = f"<{request_id}@imi.example.eu>"
    msg.set_content(
        f"A new request {request_id} was sent to your authority.\n"
        "Requesting authority: Urząd Marszałkowski Województwa Śląskiego (PL)\n"
        "Reply requested by: 01/12/2026\n"
    )
    return msg.as_bytes()


def task_request(request_id: str = "123456", unit: str = "ORG-VTH", **kw: Any) -> TaskRequest:
    """A synthetic TaskRequest for the given request id and organisation unit."""
    alert = Alert(
        alert_type=AlertType.NEW_REQUEST,
        request_id=request_id,
        requesting_authority="Urząd Marszałkowski Województwa Śląskiego",
        member_state="PL",
        service_activities=("Bouwkundig advies",),
        deadline=date(2026, 12, 1),
    )
    values: dict[str, Any] = {
        "request_id": request_id,
        "team": Team(key="vth", name="Team VTH", org_unit=unit),
        "subject": f"IMI-verzoek {request_id}",
        "summary": "Informatieverzoek uit Polen over een dienstverlener",
        "memo": "Dit is een IMI-verzoek op het gebied van bouwen.",
        "received_on": date(2026, 11, 16),
        "deadline": date(2026, 12, 1),
        "alert_eml": alert_eml(request_id),
        "alert": alert,
    }
    values.update(kw)
    return TaskRequest(**values)


@pytest.fixture(autouse=True)
def _structlog_defaults() -> Iterator[None]:
    """structlog at its defaults (every level) during a test, whatever ran before."""
    saved = structlog.get_config()
    structlog.reset_defaults()
    yield
    structlog.configure(**saved)


def profile_config(profile: str, **overrides: Any) -> dict[str, Any]:
    """The configuration an installation of this profile needs, with ``overrides`` on top."""
    merged = dict(PROFILE_CONFIG[profile])
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


@pytest.fixture(params=PROFILES)
def server(request: pytest.FixtureRequest) -> Iterator[CorsaTestServer]:
    """A Corsa test server on an ephemeral loopback port, knowing two units, per profile."""
    srv, _url = start(units=UNITS, profile=request.param)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def case_server() -> Iterator[CorsaTestServer]:
    """A Corsa test server whose installation puts IMI work in a Corsa/Case workflow."""
    srv, _url = start(units=UNITS, profile="case")
    try:
        yield srv
    finally:
        srv.stop()


def _sinks(server: CorsaTestServer) -> Iterator[Callable[..., CorsaSoapTaskSink]]:
    made: list[CorsaSoapTaskSink] = []

    def make(**overrides: Any) -> CorsaSoapTaskSink:
        config = profile_config(server.profile.name, **overrides)
        sink = CorsaSoapTaskSink(
            corsa_config(server.url, **config),
            clock=FakeClock(),
            stop=threading.Event(),
            retry_first_wait=0.01,
            retry_max_wait=0.05,
        )
        made.append(sink)
        return sink

    yield make
    for sink in made:
        sink.close()


@pytest.fixture
def make_sink(server: CorsaTestServer) -> Iterator[Callable[..., CorsaSoapTaskSink]]:
    """Build sinks on the test server, configured for its profile; all closed afterwards."""
    yield from _sinks(server)


@pytest.fixture
def make_case_sink(case_server: CorsaTestServer) -> Iterator[Callable[..., CorsaSoapTaskSink]]:
    """Build sinks in case mode on the case-profile test server."""
    yield from _sinks(case_server)


@pytest.fixture
def sink(make_sink: Callable[..., CorsaSoapTaskSink]) -> CorsaSoapTaskSink:
    """A sink on the test server with the default field names."""
    return make_sink()
