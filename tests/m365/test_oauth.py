"""OAuthTokenProvider against a real token endpoint on loopback."""

from __future__ import annotations

import tempfile
from datetime import date

import pytest
from structlog.testing import capture_logs

from imi_mailwatch.adapters.oauth import GRAPH_SCOPE, OAuthTokenProvider
from imi_mailwatch.errors import (
    MailSourceRejectedError,
    MailSourceUnavailableError,
    NotifierRejectedError,
)
from tests.m365.conftest import FakeClock, oauth_config
from tests.servers.graph_server import GraphServer, make_client_certificate


def test_token_is_acquired_once_and_cached(graph: GraphServer, clock: FakeClock) -> None:
    """A second token() call is served from msal's cache, not the token endpoint."""
    provider = OAuthTokenProvider(oauth_config(graph), GRAPH_SCOPE, clock=clock)
    first = provider.token()
    assert provider.token() == first
    assert graph.tokens_issued == 1
    assert graph.token_requests[0]["scope"] == GRAPH_SCOPE


def test_invalidate_fetches_a_new_token(graph: GraphServer, clock: FakeClock) -> None:
    """After invalidate() the next token() asks the endpoint again."""
    provider = OAuthTokenProvider(oauth_config(graph), GRAPH_SCOPE, clock=clock)
    first = provider.token()
    provider.invalidate()
    assert provider.token() != first
    assert graph.tokens_issued == 2


def test_wrong_secret_is_permanent_and_never_logged(graph: GraphServer, clock: FakeClock) -> None:
    """invalid_client raises the rejected error; neither secret nor token is logged."""
    cfg = oauth_config(graph, secret_value="wrong-secret-value")
    provider = OAuthTokenProvider(cfg, GRAPH_SCOPE, clock=clock)
    with capture_logs() as logs, pytest.raises(MailSourceRejectedError, match="invalid_client"):
        provider.token()
    assert logs[-1]["event"] == "oauth.token_failed"
    assert logs[-1]["error_codes"] == [7000215]
    assert "wrong-secret-value" not in repr(logs)


def test_error_classes_are_chosen_by_the_caller(graph: GraphServer, clock: FakeClock) -> None:
    """A notifier gets NotifierRejectedError for an unknown client id."""
    cfg = oauth_config(graph, client_id="someone-else")
    provider = OAuthTokenProvider(
        cfg, GRAPH_SCOPE, clock=clock, rejected_error=NotifierRejectedError
    )
    with pytest.raises(NotifierRejectedError, match="unauthorized_client"):
        provider.token()


def test_unreachable_authority_is_transient(clock: FakeClock) -> None:
    """A closed port gives MailSourceUnavailableError, retried later."""
    server = GraphServer()
    server.start()
    cfg = oauth_config(server)
    server.stop()
    provider = OAuthTokenProvider(cfg, GRAPH_SCOPE, clock=clock)
    with pytest.raises(MailSourceUnavailableError):
        provider.token()


def test_certificate_credential_sends_a_signed_assertion(
    graph: GraphServer, clock: FakeClock
) -> None:
    """A PEM with key and certificate is used as a client assertion, not a secret."""
    pem = make_client_certificate(tempfile.mkdtemp(prefix="graph-cert-"))
    cfg = oauth_config(graph, client_secret=None, certificate_file=pem)
    provider = OAuthTokenProvider(cfg, GRAPH_SCOPE, clock=clock)
    assert provider.token().startswith("token-")
    form = graph.token_requests[-1]
    assert "client_secret" not in form
    assert form["client_assertion_type"].endswith("jwt-bearer")
    assert form["client_assertion"].count(".") == 2


def test_secret_expiry_warns_from_thirty_days_before(graph: GraphServer) -> None:
    """oauth.secret_expiring is a warning inside the last 30 days, silent before."""
    cfg = oauth_config(graph, secret_expires_on=date(2026, 12, 20))
    early = FakeClock()  # 2026-11-22: 28 days left
    with capture_logs() as logs:
        OAuthTokenProvider(cfg, GRAPH_SCOPE, clock=early).token()
    warnings = [e for e in logs if e["event"] == "oauth.secret_expiring"]
    assert warnings and warnings[0]["log_level"] == "warning"
    assert warnings[0]["days_left"] == 28

    cfg_later = oauth_config(graph, secret_expires_on=date(2027, 3, 1))
    with capture_logs() as logs:
        OAuthTokenProvider(cfg_later, GRAPH_SCOPE, clock=early).token()
    assert not [e for e in logs if e["event"] == "oauth.secret_expiring"]
