"""The Corsa Web Service on the wire: XML-level checks and readers, below zeep.

- :func:`xml_text`: text fit for XML 1.0 (a control character in an alert would
  make lxml refuse to serialise the request);
- :class:`CheckedTransport`: zeep's transport, refusing an HTTP 200 answer that is
  cut off or not the answer to the operation called (:class:`DamagedAnswerError`,
  which the sink translates into ``TaskSinkUnavailableError``);
- :func:`parse_datatable` and :func:`row_id`: the .NET DataTables Corsa answers with.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from imi_mailwatch.errors import TaskSinkUnavailableError
from imi_mailwatch.memory import import_without

with import_without("httpx"):  # only zeep's AsyncTransport needs it; this sink is synchronous
    from zeep.transports import Transport

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
# zeep is not typed: its transport enters typed code through this name
_Transport: Any = Transport


# characters XML 1.0 does not allow (C0 controls but tab/LF/CR, surrogates, U+FFFE/F):
# lxml refuses to serialise them, so one ESC in an alert would block its task forever
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """Text fit for an XML 1.0 document: characters XML does not allow are removed."""
    return _NOT_XML.sub("", text)


class DamagedAnswerError(Exception):
    """An HTTP 200 answer that is not this operation's complete SOAP answer (internal)."""


class CheckedTransport(_Transport):  # type: ignore[misc]
    """zeep's transport, refusing an HTTP 200 answer that is cut off or not the answer
    to the operation called. zeep parses answers leniently (``recover=True``): a
    truncated ``QueryExecute`` answer would read as "no document" and a truncated
    ``CreateMetaDocument`` answer as a refusal. Checked strictly here instead, so
    that such an answer counts as what it is, a transient failure."""

    def post_xml(self, address: str, envelope: Any, headers: Any) -> Any:
        response = super().post_xml(address, envelope, headers)
        if response.status_code == 200 and response.content:
            check_answer(envelope, response.content)
        return response


def check_answer(request: Any, content: bytes) -> None:
    """Raise DamagedAnswerError unless ``content`` is a complete SOAP answer (or fault)
    to the request envelope ``request``."""
    try:
        body = etree.fromstring(content, _PARSER).find(f"{{{SOAP_ENV}}}Body")
    except etree.XMLSyntaxError:
        raise DamagedAnswerError("truncated or unreadable XML") from None
    asked = request.find(f"{{{SOAP_ENV}}}Body")
    if body is None or len(body) == 0 or asked is None or len(asked) == 0:
        raise DamagedAnswerError("no SOAP body")
    answer = etree.QName(body[0])
    if answer.localname == "Fault" and answer.namespace == SOAP_ENV:
        return  # zeep turns it into a Fault
    expected = etree.QName(asked[0]).localname + "Response"
    if answer.localname != expected:
        raise DamagedAnswerError(f"unexpected answer element {answer.localname[:40]}")


def parse_datatable(data: bytes | str | None) -> list[dict[str, str]]:
    """Rows of a .NET DataTable serialised as XML (the Java-friendly variant's base64)."""
    if not data:
        return []
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        root = etree.fromstring(raw, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise TaskSinkUnavailableError(f"Corsa answered an unreadable table: {exc.msg}") from None
    rows: list[dict[str, str]] = []
    for row in root:
        if not isinstance(row.tag, str) or etree.QName(row).namespace is not None:
            continue  # an inline xs:schema or a diffgram annotation
        cells = {etree.QName(c).localname: (c.text or "") for c in row if isinstance(c.tag, str)}
        if cells:
            rows.append(cells)
    return rows


_ID_COLUMNS = ("object_id", "objectid", "doc_id", "poststuk_id", "id")


def row_id(row: dict[str, str]) -> str:
    """The object id of a result row: a column named like an id, else the first column."""
    for key, value in row.items():
        if key.lower() in _ID_COLUMNS and value:
            return value
    return next(iter(row.values()), "")
