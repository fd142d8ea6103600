"""A Corsa 7.2 Web Service test server: real SOAP 1.1 over HTTP on loopback.

It serves its own minimal WSDL (``corsa_test.wsdl`` in ``imi_mailwatch.testing``:
the operation, element and type names of the real service) at ``...asmx?WSDL``
and answers document/literal SOAP calls the way the real service does:

- the session lives in an ``ASP.NET_SessionId`` cookie; ``setLicenseKey`` and
  ``Connect`` must come first, every other call without a connected session
  answers ``Result=false`` with ``LastError="Not connected"``;
- errors are not SOAP faults: ``Result`` (boolean) plus ``LastError`` (string);
- it is held to an installation profile (:mod:`.profile`; ``documented``,
  ``production`` or ``case``, or a YAML file): an unknown object type or kind,
  an unknown field or reference, a missing required field, a memo or file on an
  object that does not exist are refused with a ``LastError`` shaped like
  Corsa's; fields the profile marks as not stored are accepted and dropped;
- documents with fields, references, file versions and a memo; memos are
  protected by default, so ``SetObjectMemo`` appends instead of overwriting;
  ``DeleteObject3`` deletes logically;
- ``QueryExecute`` searches documents by a field value (equal, starts with,
  contains), ``GetDocTodoList2`` gives an organisation unit's to-do list (when
  the profile puts registrations there); both return a DataTable as base64 XML,
  like the Java-friendly variant of the service;
- ``GetObjectKinds``, ``GetFields``, ``GetReferences``, ``GetConfidentialities``
  and ``GetFieldValues`` answer from the profile and the documents;
- Corsa/Case (profile ``case``): ``CaseConnectDocumentType`` and
  ``CaseStartPrcd`` start a case whose step belongs to the route field's unit,
  ``CaseAdhocAction`` (insert step) carries a memo, ``CaseGetInfo`` reads it;
- switches to inject failures: expired sessions, a ``LastError`` for the next
  call of an operation, HTTP 500, a lost response (the call is carried out but
  the answer never arrives), a damaged HTTP 200 answer (truncated or unexpected
  XML), slow answers; ``heal()`` drops what is still queued;
- what people do in Corsa itself (:mod:`.backoffice`): ``complete_document``
  (the completion date is filled) and ``move_document`` (the route field names
  another unit), for the tests of the status read-back;
- ``CreateMetaDocument`` with an ``ObjectID`` updates a registration (values not
  passed are deleted, as in Corsa) unless the profile says ``modify: false``.

Use it from tests with :func:`start` and :meth:`CorsaTestServer.stop`, or run it
for the demo: ``python -m imi_mailwatch.testing.corsa_server --port 8095``.
"""

from __future__ import annotations

import argparse
import threading
from typing import Any

from imi_mailwatch.testing.corsa_server.profile import (
    PROFILE_NAMES,
    InstallationProfile,
    load_profile,
)
from imi_mailwatch.testing.corsa_server.server import NOT_CONNECTED, CorsaTestServer
from imi_mailwatch.testing.corsa_server.state import Case, CaseStep, Document, FileVersion
from imi_mailwatch.testing.corsa_server.wire import GARBLE_MODES

__all__ = [
    "GARBLE_MODES",
    "NOT_CONNECTED",
    "PROFILE_NAMES",
    "Case",
    "CaseStep",
    "CorsaTestServer",
    "Document",
    "FileVersion",
    "InstallationProfile",
    "load_profile",
    "main",
    "start",
]


def start(host: str = "127.0.0.1", port: int = 0, **options: Any) -> tuple[CorsaTestServer, str]:
    """Start a test server on a thread; returns it and its endpoint URL."""
    server = CorsaTestServer(**options)
    url = server.start(host, port)
    return server, url


def main(argv: list[str] | None = None) -> int:
    """Run the test server in the foreground (for the demo) until interrupted."""
    parser = argparse.ArgumentParser(description="Corsa Web Service test server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8095)
    parser.add_argument("--username", default="imi-mailwatch")
    parser.add_argument("--password", default="geheim")
    parser.add_argument("--license-key", default="TEST-LICENTIE")
    parser.add_argument("--unit", action="append", dest="units", help="known organisation unit")
    parser.add_argument(
        "--profile",
        default="documented",
        help=f"installation profile: {', '.join(PROFILE_NAMES)} or a YAML file",
    )
    args = parser.parse_args(argv)
    server, url = start(
        args.host,
        args.port,
        username=args.username,
        password=args.password,
        license_key=args.license_key,
        units=args.units,
        profile=args.profile,
    )
    print(f"Corsa test server ({server.profile.name}): {url}  (WSDL: {url}?WSDL)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
