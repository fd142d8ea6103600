"""The ``replies:`` section: trust settings from it, and every mistake reported at its path."""

from __future__ import annotations

from typing import Any

import pytest

from imi_mailwatch.app import reply_handler
from imi_mailwatch.config import Config, config_from_data
from imi_mailwatch.errors import ConfigError
from imi_mailwatch.replies.trust import TrustMode


def _cfg(replies: dict[str, Any], **more: Any) -> Config:
    return config_from_data({"replies": replies, **more}, {}, base_dir=".")


def test_defaults_trust_dmarc_with_the_alerts_stamp() -> None:
    """By default replies are on, trusted by DMARC under authentication's authserv-id."""
    cfg = _cfg({}, authentication={"authserv_id": "mx.example.org"})
    trust = cfg.replies.reply_trust(stamped_by="authserv_id", authserv_id="mx.example.org")
    assert trust.modes == (TrustMode.DMARC,)
    assert trust.authserv_id == "mx.example.org"
    assert cfg.replies.message_id_domains(cfg.notify.from_address) == ("brabant.nl",)
    handler = reply_handler(cfg)  # own domains: those of the functional mailbox, beheerders
    assert handler is not None
    assert handler.settings.trust.own_domains == ("brabant.nl",)


def test_exchange_online_stamp_has_no_authserv_id() -> None:
    """stamped_by exchange_online (here or under authentication) trusts Exchange's stamp."""
    cfg = _cfg({"stamped_by": "exchange_online"})
    trust = cfg.replies.reply_trust(stamped_by="authserv_id", authserv_id="mx.brabant.nl")
    assert trust.authserv_id is None


def test_both_modes_and_domains_are_normalised() -> None:
    """Both modes may be named; domains are compared in lower case without a trailing dot."""
    cfg = _cfg({"own_domains": ["Brabant.NL."], "trust": ["dmarc", "exchange_internal"],
                "exchange_auth_sources": ["EXCH01.brabant.nl"]})  # fmt: skip
    trust = cfg.replies.reply_trust(stamped_by="authserv_id", authserv_id="mx.brabant.nl")
    assert trust.own_domains == ("brabant.nl",)
    assert trust.modes == (TrustMode.DMARC, TrustMode.EXCHANGE_INTERNAL)
    assert trust.exchange_auth_sources == ("exch01.brabant.nl",)


@pytest.mark.parametrize(
    ("replies", "words"),
    [
        ({"trust": ["exchange_internal"]}, "exchange_auth_sources"),
        ({"trust": []}, "trust is empty"),
        ({"own_domains": ["not a domain"]}, "not a domain name"),
        ({"trust": ["spf"]}, "replies.trust"),
        ({"authserv_id": "mx.brabant.nl; dmarc=pass"}, "one host name"),
    ],
)
def test_mistakes_are_reported_at_their_path(replies: dict[str, Any], words: str) -> None:
    """A replies section that could trust nobody, or anybody, is refused with its path."""
    with pytest.raises(ConfigError) as info:
        _cfg(replies)
    assert "replies" in str(info.value)
    assert words in str(info.value)


def test_disabled_replies_are_ordinary_mail() -> None:
    """replies.enabled false: the pipeline gets no reply path (a reply is ordinary mail)."""
    assert reply_handler(_cfg({"enabled": False, "own_domains": []})) is None
    assert reply_handler(_cfg({})) is not None
