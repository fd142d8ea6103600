"""Opening an IMAP session (TLS, authentication) and translating imapclient's errors.

Everything here is about one connection, including the server responses that
imapclient leaves in imaplib's buffers (``take_size_news``, ``read_ahead``);
``imap.py`` holds the mailbox logic (cursor, fetch, acknowledge, IDLE). Error
mapping at this edge:

- socket errors, timeouts, ``IMAPClientAbortError`` (EOF, BYE), ``BAD User is
  authenticated but not connected`` and other failed commands ->
  ``MailSourceUnavailableError`` (transient, retried);
- a refused LOGIN/AUTHENTICATE, a certificate that fails verification, a missing
  STARTTLS, ``NO [NOPERM]`` / ``[AUTHORIZATIONFAILED]`` / ``[NONEXISTENT]`` ->
  ``MailSourceRejectedError`` (permanent: reported, the source is unhealthy).

Error texts carry the operation and a cleaned server text, never an address,
password or token.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import socket
import ssl
from collections.abc import Callable, Iterator
from typing import Any

import structlog
from imapclient import IMAPClient
from imapclient.exceptions import (
    CapabilityError,
    IMAPClientAbortError,
    IMAPClientError,
    LoginError,
)
from imapclient.imapclient import SocketTimeout
from imapclient.response_parser import parse_response

from imi_mailwatch.config import ImapConfig
from imi_mailwatch.errors import (
    MailSourceRejectedError,
    MailSourceUnavailableError,
    MailwatchError,
)

log = structlog.get_logger(__name__)

_PERMANENT_CODES = ("NOPERM", "AUTHORIZATIONFAILED", "AUTHENTICATIONFAILED", "NONEXISTENT")
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def clean(text: object, limit: int = 200) -> str:
    """A server or library text made safe for logs: no addresses, bounded length."""
    s = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return _ADDRESS.sub("<address>", s)[:limit]


@contextlib.contextmanager
def translate_errors(operation: str) -> Iterator[None]:
    """Map imapclient/socket exceptions raised inside the block to the project's errors."""
    try:
        yield
    except MailwatchError:
        raise
    except LoginError as exc:
        raise MailSourceRejectedError(
            f"IMAP {operation}: authentication refused ({clean(exc)})"
        ) from None
    except ssl.SSLCertVerificationError as exc:
        raise MailSourceRejectedError(
            f"IMAP {operation}: the server certificate failed verification "
            f"({clean(exc.verify_message or exc.reason)}); trust its CA with imap.ca_file"
        ) from None
    except CapabilityError as exc:
        raise MailSourceRejectedError(f"IMAP {operation}: {clean(exc)}") from None
    except IMAPClientAbortError as exc:  # EOF, BYE, protocol abort (before IMAPClientError)
        raise MailSourceUnavailableError(
            f"IMAP {operation}: connection lost ({clean(exc)})"
        ) from None
    except IMAPClientError as exc:
        text = clean(exc)
        if any(f"[{code}" in text.upper() for code in _PERMANENT_CODES):
            raise MailSourceRejectedError(f"IMAP {operation}: refused ({text})") from None
        raise MailSourceUnavailableError(f"IMAP {operation}: failed ({text})") from None
    except TimeoutError as exc:
        raise MailSourceUnavailableError(f"IMAP {operation}: timed out ({clean(exc)})") from None
    except (OSError, EOFError) as exc:  # socket errors, ssl.SSLError, refused connections
        raise MailSourceUnavailableError(
            f"IMAP {operation}: network error ({type(exc).__name__}: {clean(exc)})"
        ) from None


def ssl_context(cfg: ImapConfig) -> ssl.SSLContext:
    """Certificate and host name verification always on; ``ca_file`` adds a private CA."""
    ctx = ssl.create_default_context(cafile=cfg.ca_file or None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def default_port(cfg: ImapConfig) -> int:
    return cfg.port if cfg.port is not None else (993 if cfg.security == "tls" else 143)


def _keepalive(sock: socket.socket) -> None:
    """TCP keepalive, so the kernel notices a peer that vanished without a goodbye."""
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 60)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 15)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 4)


def open_session(
    cfg: ImapConfig, *, name: str, token_provider: Callable[[], str] | None
) -> IMAPClient:
    """Connect, secure and authenticate. Raises the project's errors only."""
    port = default_port(cfg)
    timeout = SocketTimeout(connect=cfg.timeout_seconds, read=cfg.timeout_seconds)
    client: IMAPClient | None = None
    try:
        with translate_errors("connect"):
            if cfg.security == "tls":
                client = IMAPClient(
                    cfg.host, port=port, ssl=True, ssl_context=ssl_context(cfg), timeout=timeout
                )
            else:
                client = IMAPClient(cfg.host, port=port, ssl=False, timeout=timeout)
                if cfg.security == "starttls":
                    if b"STARTTLS" not in client.capabilities():
                        raise MailSourceRejectedError(
                            "IMAP connect: the server does not offer STARTTLS"
                        )
                    client.starttls(ssl_context(cfg))
            _keepalive(client.socket())
        with translate_errors("login"):
            if cfg.auth == "xoauth2":
                if token_provider is None:
                    raise MailSourceRejectedError(
                        "IMAP login: auth is xoauth2 but no OAuth token provider is configured"
                    )
                _oauth2_login(client, cfg.username, token_provider, name=name)
            else:
                if cfg.password is None:
                    raise MailSourceRejectedError(
                        "IMAP login: auth is login but no password is set"
                    )
                client.login(cfg.username, cfg.password.reveal())
        client.normalise_times = False  # INTERNALDATE as an aware datetime
        return client
    except BaseException:
        if client is not None:
            abandon(client)
        raise


def _oauth2_login(
    client: IMAPClient, username: str, token_provider: Callable[[], str], *, name: str
) -> None:
    """XOAUTH2 with the cached token; once more with a fresh one if the server refuses it.

    A token can be refused before it expires (revoked consent, a changed policy);
    msal would keep handing out the cached one until it expires.
    """
    try:
        client.oauth2_login(username, token_provider())
    except LoginError:
        invalidate = getattr(token_provider, "invalidate", None)
        if invalidate is None:
            raise
        log.info("imap.token_refused", mailbox=name)
        invalidate()
        client.oauth2_login(username, token_provider())


def take_size_news(client: IMAPClient) -> tuple[int, int] | None:
    """Take the mailbox-size news the server sent along with other commands' replies.

    imapclient hands each command its own reply, but an unsolicited ``* n EXISTS``
    (RFC 3501 5.2: a server reports a size change with whatever reply it sends
    next, a SEARCH reply included) stays in imaplib's buffer, where nothing reads
    it, and IDLE never repeats it. This empties that buffer of EXISTS, RECENT and
    EXPUNGE, and of the COPYUID code each MOVE answers with, which nothing reads (so
    it does not grow over a long session: imaplib clears it only at a SELECT), and
    returns the last EXISTS count with the number of EXPUNGEs, or None when no
    EXISTS came.
    """
    imap = client._imap  # imaplib.IMAP4: response(code) takes what it buffered for code
    counts = [int(v) for v in imap.response("EXISTS")[1] if v is not None]
    expunged = [v for v in imap.response("EXPUNGE")[1] if v is not None]
    imap.response("RECENT")
    imap.response("COPYUID")
    return (counts[-1], len(expunged)) if counts else None


def read_ahead(client: IMAPClient) -> list[tuple[Any, ...]]:
    """Take the responses that already came with the last one read; call right after ``idle()``.

    imaplib reads the socket through a buffer (and TLS keeps one of its own). When
    the server sends ``+ idling`` and ``* 3 EXISTS`` in one packet, ``idle()``
    takes the first line and the second stays in the buffer, where the poll of
    the socket in ``idle_check`` cannot see it: it would wait for the next packet,
    perhaps minutes. The responses come parsed as ``idle_check`` returns them.
    """
    imap = client._imap
    found: list[tuple[Any, ...]] = []
    while _buffered(imap, client.socket()):
        line = imap._get_line()  # a whole line, or the rest of one the server is sending
        text = line[2:] if line.startswith(b"* ") else line
        if text.startswith((b"OK ", b"NO ", b"BYE ")):
            found.append(tuple(text.split(b" ", 1)))
        else:
            found.append(tuple(parse_response([text])))
    return found


def _buffered(imap: Any, sock: Any) -> bool:
    """Whether bytes from the server wait in a buffer above the socket."""
    if isinstance(sock, ssl.SSLSocket) and sock.pending() > 0:
        return True
    readbuf = getattr(imap, "_readbuf", None)
    if readbuf is not None:  # Python 3.14 on: imaplib keeps its own list of chunks
        return any(readbuf)
    timeout = sock.gettimeout()
    sock.setblocking(False)  # peek at the BufferedReader without waiting for the network
    try:
        return bool(imap.file.peek(1))
    except (BlockingIOError, ssl.SSLWantReadError):
        return False
    finally:
        sock.settimeout(timeout)


def mail_announced(responses: list[tuple[Any, ...]]) -> bool:
    """Whether parsed untagged responses (``idle_check``, ``idle_done``) announce mail."""
    return any(len(r) >= 2 and r[1] in (b"EXISTS", b"RECENT") for r in responses)


def abandon(client: IMAPClient) -> None:
    """Close the socket without waiting for the server (used after an error)."""
    with contextlib.suppress(Exception):
        client.shutdown()


def logout(client: IMAPClient, timeout: float = 5.0) -> None:
    """A polite LOGOUT bounded by ``timeout``; falls back to closing the socket."""
    try:
        client.socket().settimeout(timeout)
        client.logout()
    except (IMAPClientError, OSError, imaplib.IMAP4.error):
        abandon(client)
    except Exception:
        abandon(client)
