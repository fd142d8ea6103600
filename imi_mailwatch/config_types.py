"""Value types of the configuration that need more than a plain ``str``.

Each is an ``Annotated`` type whose validator raises ``ValueError`` with an
English text (the configuration is the ops' file), so that the problem is
reported with its file, line and path like every other one:

- :data:`EmailAddress`: a bare address (``imi@brabant.nl``), checked strictly;
- :data:`ClockTime`: a time of day written as the text ``"HH:MM"``;
- :data:`TimeZoneName`: an IANA time zone that ``zoneinfo`` knows;
- :class:`Secret`: a reference to a secret (``{env: NAME}`` or ``{file: PATH}``);
- :class:`Transport`: the base of a section that connects somewhere.

:func:`plaintext_host` and :func:`plaintext_risk` decide whether a connection
would travel in clear to a host other than this machine.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Mapping
from datetime import time
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Self
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    model_validator,
)

from imi_mailwatch.errors import ConfigError

# RFC 5322 dot-atom local part (no quoted strings, no comments) at a host name with a dot
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_ADDRESS = re.compile(
    rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*\.(?:[A-Za-z]{{2,63}}|xn--[A-Za-z0-9-]{{1,59}})"
)


def check_email(value: str) -> str:
    """``value`` when it is a bare e-mail address; ValueError otherwise."""
    local, at, domain = value.rpartition("@")
    try:
        ascii_domain = domain.encode("idna").decode("ascii") if domain else ""
    except UnicodeError:
        ascii_domain = ""
    if not at or len(value) > 254 or not _ADDRESS.fullmatch(f"{local}@{ascii_domain}"):
        raise ValueError(f"{value!r} is not an e-mail address (like name@example.org)")
    return value


_HH_MM = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")


def _clock_time(value: Any) -> Any:
    if isinstance(value, time):
        return value
    match = (
        re.fullmatch(r"([01]?[0-9]|2[0-3]):([0-5][0-9])", value) if isinstance(value, str) else None
    )
    if match is None:
        raise ValueError(f'give the time as text "HH:MM", for example "08:30", not {value!r}')
    return time(int(match.group(1)), int(match.group(2)))


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(value: str) -> str:
    """``value`` when ``zoneinfo`` knows it; ValueError with the closest name otherwise."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(value, sorted(_zones()), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ValueError(f"unknown time zone {value!r}{hint}") from None
    return value


EmailAddress = Annotated[str, AfterValidator(check_email)]
ClockTime = Annotated[time, BeforeValidator(_clock_time)]
TimeZoneName = Annotated[str, AfterValidator(check_timezone)]


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (127.0.0.0/8, ::1); names are not resolved."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def plaintext_host(url: str | None) -> str | None:
    """The host of an ``http://`` URL that is not loopback; None for https, files, loopback."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme.lower() != "http":
        return None
    host = parts.hostname or ""
    return None if is_loopback(host) else host or url


def plaintext_risk(key: str, url: str | None, what: str) -> list[str]:
    """``[risk]`` when ``url`` is ``http://`` to a host other than this machine, else ``[]``."""
    host = plaintext_host(url)
    return [f"{key} {url} sends {what} in clear to {host}"] if host else []


def check_memo_template(value: str) -> str:
    """``value`` when it uses only the memo's placeholders, else a ValueError naming them."""
    try:
        value.format(vakgebied="", beheerders="", dagen=0, antwoorddatum="")
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(
            "the memo template may only use {vakgebied}, {beheerders}, {dagen} and "
            "{antwoorddatum}"
            f" ({exc.__class__.__name__}: {exc})"
        ) from None
    return value


def require_kind_block(section: str, model: Any) -> None:
    """``model.kind`` names a block of ``model``, which must be given."""
    if getattr(model, model.kind) is None:
        raise ValueError(f"{section}.kind is {model.kind}, so a '{model.kind}' block is needed")


def security_none_risk(security: str, host: str, what: str) -> list[str]:
    """``[risk]`` when ``security`` is none to a host other than this machine, else ``[]``."""
    if security == "none" and not is_loopback(host):
        return [f"security none sends {what} in clear to {host}"]
    return []


class Section(BaseModel):
    """A block of the configuration: frozen, unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Transport(Section):
    """A section that connects somewhere: plaintext to another host needs ``allow_insecure``."""

    allow_insecure: bool = False  # accept plaintext to a host other than this machine

    def plaintext(self) -> list[str]:
        """What would travel in clear to a host other than this machine (empty: nothing)."""
        return []

    @model_validator(mode="after")
    def _refuse_plaintext(self) -> Self:
        risks = self.plaintext()
        if risks and not self.allow_insecure:
            raise ValueError(
                "; ".join(risks) + "; use TLS (https, tls or starttls), "
                "or set allow_insecure: true in this section to accept that risk"
            )
        return self


class Secret(Section):
    """A secret taken from an environment variable or a file, never from the YAML.

    Validation checks the reference only. :meth:`resolve` reads it (at wiring, for
    the parts in use); then ``value`` holds it, and its repr shows ``**********``.
    """

    env: str | None = None
    file: str | None = None
    value: SecretStr | None = Field(default=None, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _no_inline_value(cls, data: Any) -> Any:
        if isinstance(data, str):
            raise ValueError(
                "secrets may not stand in the configuration file; "
                "use {env: VARIABLE} or {file: /path/to/secret}"
            )
        if isinstance(data, dict) and "value" in data:
            raise ValueError("use {env: VARIABLE} or {file: /path/to/secret}, not value")
        return data

    @model_validator(mode="after")
    def _one_source(self, info: ValidationInfo) -> Secret:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of env or file")
        environ = (info.context or {}).get("environ")
        if environ is not None:  # one block built with its environment (tests, tools): read now
            error = self.resolve(environ)
            if error is not None:
                raise ValueError(error)
        return self

    @property
    def source(self) -> str:
        """``environment variable NAME`` or ``file PATH``: where the secret is read from."""
        return f"environment variable {self.env}" if self.env else f"file {self.file}"

    def resolve(self, environ: Mapping[str, str]) -> str | None:
        """Read the secret into ``value``; the problem as text when it cannot be read."""
        if self.env is not None:
            if self.env not in environ:
                return f"environment variable {self.env} is not set"
            resolved = environ[self.env]
        else:
            try:
                resolved = Path(str(self.file)).read_text(encoding="utf-8").strip()
            except OSError as exc:
                return f"cannot read secret file {self.file}: {exc.strerror}"
        object.__setattr__(self, "value", SecretStr(resolved))
        return None

    def reveal(self) -> str:
        if self.value is None:
            raise ConfigError(f"the secret from {self.source} was not read before use")
        return self.value.get_secret_value()
