"""The Corsa 7.2 Web Service session: a cookie session under zeep, answers checked.

The service keeps its session in an HTTP cookie, so one ``requests.Session``
lives under the zeep client. The sequence is ``setLicenseKey`` -> ``Connect`` ->
calls -> ``Disconnect``; :class:`CorsaSession` connects on first use and
reconnects once when a call says the session is gone.

Corsa reports errors in ``Result``/``LastError`` instead of SOAP faults; every
answer is checked and translated here (see :func:`classify_last_error`):

- session lost ("Not connected", "session expired"): reconnect once and call
  again; if that fails too, ``TaskSinkUnavailableError``;
- a busy server, deadlock or time-out in the far side: ``TaskSinkUnavailableError``;
- anything else (validation, unknown organisation unit, licence, credentials):
  ``TaskSinkRejectedError``; the pipeline parks the request and tells the beheerders.
- HTTP 5xx, time-outs, refused connections, unreadable answers:
  ``TaskSinkUnavailableError``; SOAP faults by their fault code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import requests
import structlog
import zeep
import zeep.exceptions
from lxml import etree

from imi_mailwatch.adapters.corsa_wire import (
    CheckedTransport,
    DamagedAnswerError,
    xml_text,
)
from imi_mailwatch.config_corsa import CorsaConfig
from imi_mailwatch.errors import TaskSinkRejectedError, TaskSinkUnavailableError

log = structlog.get_logger(__name__)

NS = "http://bct.nl"
BINDING = f"{{{NS}}}CORSA72WS4jSoap"
# zeep is not typed: its classes enter typed code through these names
_Client: Any = zeep.Client


class ErrorKind(StrEnum):
    """What a ``LastError`` text means for the caller."""

    SESSION = "session"  # the session is gone: reconnect and call again
    TRANSIENT = "transient"  # the far side is busy or broken for now: retry later
    PERMANENT = "permanent"  # the request itself is refused: park it


_SESSION_PATTERNS = re.compile(
    r"not connected|no connection|not logged ?in|session|expired|verlopen|"
    r"niet (meer )?verbonden|geen verbinding|niet aangemeld|login required",
    re.IGNORECASE,
)
_TRANSIENT_PATTERNS = re.compile(
    r"time-?out|timed out|deadlock|temporar|tijdelijk|busy|bezet|try again|"
    r"too many|unavailable|niet beschikbaar|connection (was )?(lost|reset|closed)",
    re.IGNORECASE,
)


def classify_last_error(text: str) -> ErrorKind:
    """Map a ``LastError`` text to what it means; unknown texts count as permanent."""
    if _SESSION_PATTERNS.search(text):
        return ErrorKind.SESSION
    if _TRANSIENT_PATTERNS.search(text):
        return ErrorKind.TRANSIENT
    return ErrorKind.PERMANENT


def safe_error(text: str, limit: int = 160) -> str:
    """A LastError fit for logs and error texts: quoted values cut out, length capped."""
    cleaned = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", text or "").strip()
    cleaned = re.sub(r"\s+", " ", cleaned)
    return cleaned[:limit] or "(no LastError)"


def corsa_date(value: date) -> str:
    """Corsa's date format, dd/MM/yyyy."""
    return value.strftime("%d/%m/%Y")


@dataclass(frozen=True, slots=True)
class CheckStep:
    """One step of ``imi-mailwatch corsa check``: what was tried and how it went.

    ``advice`` says, in Dutch, what to ask the Corsa administrator when it failed;
    ``note`` is an ok step that still needs attention (a field Corsa dropped).
    """

    name: str
    ok: bool
    detail: str
    advice: str = ""
    note: bool = False


class CorsaSession:
    """One cookie session with the service; not thread-safe (the sink holds a lock)."""

    def __init__(self, cfg: CorsaConfig) -> None:
        self._cfg = cfg
        self._session: requests.Session | None = None
        self._client: Any = None
        self._service: Any = None
        self.connected = False

    def close(self) -> None:
        """Disconnect and drop the HTTP session. Safe to call twice."""
        if self.connected and self._service is not None:
            try:
                self._service.Disconnect()
                log.info("corsa.disconnected")
            except (requests.RequestException, zeep.exceptions.Error) as exc:
                log.warning("corsa.disconnect_failed", error=type(exc).__name__)
        self.connected = False
        if self._session is not None:
            self._session.close()
        self._session = self._client = self._service = None

    def name_values(self, pairs: list[tuple[str, str]]) -> Any:
        """An ArrayOfNameValue of these pairs (None when empty)."""
        if not pairs:
            return None
        nv = self.type("NameValue")
        return self.type("ArrayOfNameValue")(
            NameValue=[nv(Name=n, Value=xml_text(v)) for n, v in pairs]
        )

    def call(self, operation: str, result_field: str | None, **kwargs: Any) -> Any:
        """One call with Result/LastError checked; a lost session is re-established once."""
        for attempt in (1, 2):
            if not self.connected:
                self.connect()
            resp = self.raw(operation, **kwargs)
            last_error = str(getattr(resp, "LastError", None) or "")
            ok = bool(getattr(resp, result_field)) if result_field else not last_error
            if ok:
                return resp
            kind = classify_last_error(last_error)
            log.warning(
                "corsa.call_failed",
                operation=operation,
                kind=kind.value,
                last_error=safe_error(last_error),
                attempt=attempt,
            )
            if kind is ErrorKind.SESSION and attempt == 1:
                self.connected = False
                log.info("corsa.session_lost", operation=operation)
                continue
            message = f"Corsa {operation}: {safe_error(last_error)}"
            if kind is ErrorKind.PERMANENT:
                raise TaskSinkRejectedError(message)
            raise TaskSinkUnavailableError(message)
        raise AssertionError("unreachable")  # pragma: no cover

    def connect(self) -> None:
        self.ensure_client()
        self.connected = False
        licensed = self.raw("setLicenseKey", LicenseKey=self.license())
        if not licensed:
            raise TaskSinkRejectedError("Corsa setLicenseKey: the licence key was refused")
        resp = self.raw(
            "Connect",
            ApplicationID=self._cfg.application_id,
            ConnectionID=self._cfg.connection_id,
            UserName=self._cfg.username,
            Password=self._cfg.password.reveal(),
            EncodedPass=self._cfg.encoded_password,
        )
        if not resp.ConnectResult:
            last_error = str(resp.LastError or "")
            message = f"Corsa Connect: {safe_error(last_error)}"
            log.warning("corsa.connect_failed", last_error=safe_error(last_error))
            if classify_last_error(last_error) is ErrorKind.TRANSIENT:
                raise TaskSinkUnavailableError(message)
            raise TaskSinkRejectedError(message)
        self.connected = True
        log.info("corsa.connected", application_id=self._cfg.application_id)

    def license(self) -> str:
        return self._cfg.license_key.reveal() if self._cfg.license_key else ""

    def wsdl_location(self) -> str:
        return self._cfg.wsdl or self._cfg.url + "?WSDL"

    def ensure_client(self) -> None:
        if self._client is not None:
            return
        session = requests.Session()
        if self._cfg.ca_file:
            session.verify = self._cfg.ca_file
        transport = CheckedTransport(
            session=session,
            timeout=self._cfg.timeout_seconds,
            operation_timeout=self._cfg.timeout_seconds,
        )
        location = self.wsdl_location()
        if "://" not in location:
            location = str(Path(location).expanduser())
        settings = zeep.Settings(strict=False, xml_huge_tree=False)
        try:
            client: Any = _Client(location, transport=transport, settings=settings)
            service = client.create_service(BINDING, self._cfg.url)
        except (requests.RequestException, zeep.exceptions.TransportError) as exc:
            session.close()
            raise TaskSinkUnavailableError(
                f"Corsa WSDL not reachable: {type(exc).__name__}"
            ) from None
        except (OSError, zeep.exceptions.Error, ValueError, etree.XMLSyntaxError) as exc:
            session.close()
            raise TaskSinkRejectedError(
                f"Corsa WSDL unusable ({location}): {type(exc).__name__}"
            ) from None
        self._session, self._client, self._service = session, client, service

    def type(self, name: str) -> Any:
        self.ensure_client()
        return self._client.get_type(f"{{{NS}}}{name}")

    def raw(self, operation: str, **kwargs: Any) -> Any:
        """Call the operation; library exceptions become the project's own."""
        self.ensure_client()
        try:
            return getattr(self._service, operation)(**kwargs)
        except requests.Timeout:
            raise TaskSinkUnavailableError(f"Corsa {operation}: no answer in time") from None
        except requests.RequestException as exc:
            raise TaskSinkUnavailableError(f"Corsa {operation}: {type(exc).__name__}") from None
        except zeep.exceptions.TransportError as exc:
            if exc.status_code in (401, 403, 404):
                raise TaskSinkRejectedError(f"Corsa {operation}: HTTP {exc.status_code}") from None
            raise TaskSinkUnavailableError(f"Corsa {operation}: HTTP {exc.status_code}") from None
        except zeep.exceptions.Fault as exc:
            code = str(exc.code or "")
            if not code:  # an error page (HTTP 5xx from the server or a proxy), not a fault
                raise TaskSinkUnavailableError(
                    f"Corsa {operation}: HTTP error without a SOAP fault"
                ) from None
            if code.endswith("Client"):
                raise TaskSinkRejectedError(f"Corsa {operation}: SOAP fault {code}") from None
            raise TaskSinkUnavailableError(f"Corsa {operation}: SOAP fault {code}") from None
        except zeep.exceptions.ValidationError as exc:
            raise TaskSinkRejectedError(
                f"Corsa {operation}: request not valid ({exc.message})"
            ) from None
        except (zeep.exceptions.XMLSyntaxError, etree.XMLSyntaxError) as exc:
            raise TaskSinkUnavailableError(
                f"Corsa {operation}: unreadable answer ({type(exc).__name__})"
            ) from None
        except DamagedAnswerError as exc:
            raise TaskSinkUnavailableError(f"Corsa {operation}: damaged answer ({exc})") from None
        except zeep.exceptions.Error as exc:
            raise TaskSinkUnavailableError(f"Corsa {operation}: {type(exc).__name__}") from None
        except ValueError as exc:  # lxml: text that XML cannot carry (xml_text missed a field)
            raise TaskSinkRejectedError(
                f"Corsa {operation}: request not serialisable ({type(exc).__name__})"
            ) from None
