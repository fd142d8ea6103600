"""The ``replies:`` section: commands by reply mail (docs/alerts.md, "Replies from the
organisation's own mail"; docs/antwoorden.md for the people who send them).

A reply is trusted only from one of ``own_domains`` and only when one of the
``trust`` modes vouches for it: ``dmarc`` (the stamp of ``authserv_id``, or of
Exchange Online with ``stamped_by: exchange_online``, says dmarc=pass for the own
domain) or ``exchange_internal`` (Exchange's ``AuthAs: Internal`` mark, from one of
``exchange_auth_sources``). Which mode fits which mail source is in docs/alerts.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator, model_validator

from imi_mailwatch.config_types import Section

if TYPE_CHECKING:  # the replies package reads alerts, which read this configuration
    from imi_mailwatch.replies.trust import ReplyTrust

__all__ = ["RepliesConfig"]

_DOMAIN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")


def _domains(value: tuple[str, ...], what: str) -> tuple[str, ...]:
    out = []
    for entry in value:
        domain = entry.strip().lstrip("@").rstrip(".").lower()
        if not domain or "." not in domain or not set(domain) <= _DOMAIN_CHARS:
            raise ValueError(f"{entry!r} is not a domain name ({what}: like brabant.nl)")
        out.append(domain)
    return tuple(out)


class RepliesConfig(Section):
    """Commands by reply mail: who is trusted, which of the daemon's mails are answered."""

    enabled: bool = True
    # exactly these: no subdomains, no look-alikes. Empty: the domains of the functional
    # mailbox and of the beheerders (imi_mailwatch.desk.own_domains)
    own_domains: tuple[str, ...] = ()
    trust: tuple[Literal["dmarc", "exchange_internal"], ...] = ("dmarc",)
    # dmarc: who stamps the trusted Authentication-Results. Empty: as ``authentication``.
    stamped_by: Literal["authserv_id", "exchange_online"] | None = None
    authserv_id: str | None = None
    # exchange_internal: the Exchange servers (or their domains) that may authenticate
    exchange_auth_sources: tuple[str, ...] = ()
    # the domains of the daemon's own Message-IDs; empty: that of notify.from_address
    id_domains: tuple[str, ...] = ()
    answer: bool = True  # send the Dutch help, refusal and "not trusted" answers
    # IMI's PDF report forwarded by a beheerder: larger PDFs are refused (replies.imipdf)
    pdf_max_mb: int = Field(default=20, ge=1, le=200)

    @field_validator("own_domains", "id_domains", "exchange_auth_sources")
    @classmethod
    def _domain_list(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _domains(value, "replies")

    @field_validator("authserv_id")
    @classmethod
    def _authserv_id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value or value != value.strip() or any(c in value for c in ' \t;()"'):
            raise ValueError("authserv_id is one host name, such as mx.brabant.nl")
        return value.lower()

    @model_validator(mode="after")
    def _usable(self) -> RepliesConfig:
        if not self.enabled:
            return self
        if not self.trust:
            raise ValueError("replies.trust is empty: name dmarc, exchange_internal or both")
        if len(set(self.trust)) != len(self.trust):
            raise ValueError("replies.trust names a mode twice")
        if "exchange_internal" in self.trust and not self.exchange_auth_sources:
            raise ValueError(
                "replies.trust exchange_internal needs exchange_auth_sources: the Exchange "
                "servers (or their domain) that authenticate the organisation's own mail"
            )
        return self

    def reply_trust(
        self, *, stamped_by: str, authserv_id: str, own_domains: tuple[str, ...] = ()
    ) -> ReplyTrust:
        """The trust settings, with ``authentication``'s stamp where this section sets none
        (and ``own_domains`` where it names none)."""
        from imi_mailwatch.replies.trust import ReplyTrust, TrustMode

        stamp = self.stamped_by or stamped_by
        server = self.authserv_id or authserv_id
        return ReplyTrust(
            own_domains=self.own_domains or own_domains,
            modes=tuple(TrustMode(m) for m in self.trust),
            authserv_id=None if stamp == "exchange_online" else server,
            exchange_auth_sources=self.exchange_auth_sources,
        )

    def message_id_domains(self, from_address: str) -> tuple[str, ...]:
        """The domains of the daemon's own Message-IDs."""
        return self.id_domains or (from_address.rpartition("@")[2].lower(),)
