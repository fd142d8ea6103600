"""The SOAP side of the Corsa test server: request arguments in, response envelopes out.

Document/literal SOAP 1.1 in the namespace ``http://bct.nl``; DataTables go out
the way .NET's ``DataSet.WriteXml`` writes them, base64-encoded as in the
Java-friendly variant of the service.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

NS = "http://bct.nl"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
COOKIE = "ASP.NET_SessionId"
PATH = "/wsCorsa7/Corsa72WS4j.asmx"
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


class Args:
    """The children of a request element, by local name."""

    def __init__(self, element: etree._Element) -> None:
        self._el = element

    def _child(self, name: str) -> etree._Element | None:
        return self._el.find(f"{{{NS}}}{name}")

    def text(self, name: str) -> str:
        child = self._child(name)
        return (child.text or "") if child is not None else ""

    def name_values(self, name: str) -> dict[str, str]:
        child = self._child(name)
        out: dict[str, str] = {}
        if child is None:
            return out
        for nv in child.findall(f"{{{NS}}}NameValue"):
            key = nv.findtext(f"{{{NS}}}Name") or ""
            out[key] = nv.findtext(f"{{{NS}}}Value") or ""
        return out

    def query_items(self) -> list[dict[str, str]]:
        child = self._child("QueryItems")
        if child is None:
            return []
        return [
            {etree.QName(c).localname: c.text or "" for c in item}
            for item in child.findall(f"{{{NS}}}QueryItem")
        ]

    def strings(self, name: str) -> list[str]:
        child = self._child(name)
        if child is None:
            return []
        return [s.text or "" for s in child.findall(f"{{{NS}}}string")]


def columns(fields: dict[str, str]) -> dict[str, str]:
    """Field names as DataTable column names: ``poststuk.kenmerk`` -> ``KENMERK``."""
    return {name.rsplit(".", 1)[-1].upper(): value for name, value in fields.items()}


def datatable(rows: list[dict[str, str]]) -> bytes:
    """A DataTable serialised the way .NET's DataSet.WriteXml does it (no schema)."""
    root = etree.Element("NewDataSet")
    for row in rows:
        table = etree.SubElement(root, "Table")
        for key, value in row.items():
            etree.SubElement(table, key).text = value
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


_FILLERS: dict[str, list[tuple[str, Any]]] = {
    "CreateMetaDocument": [("NewObjectID", "")],
    "GetObjectMemo": [("SecureMemo", False)],
}


def filler(operation: str) -> list[tuple[str, Any]]:
    return list(_FILLERS.get(operation, []))


def _render(parent: etree._Element, name: str, value: Any) -> None:
    el = etree.SubElement(parent, f"{{{NS}}}{name}")
    if isinstance(value, bool):
        el.text = "true" if value else "false"
    elif isinstance(value, bytes):
        el.text = base64.b64encode(value).decode("ascii")
    elif isinstance(value, list):
        for sub_name, sub_value in value:
            _render(el, sub_name, sub_value)
    else:
        el.text = str(value)


def response(operation: str, values: list[tuple[str, Any]]) -> bytes:
    if operation == "setLicenseKey" or operation in ("Connected", "Disconnect"):
        values = [(n, v) for n, v in values if n != "LastError"]
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    body = etree.SubElement(env, f"{{{SOAP_ENV}}}Body")
    resp = etree.SubElement(body, f"{{{NS}}}{operation}Response", nsmap={None: NS})
    for name, value in values:
        _render(resp, name, value)
    return bytes(etree.tostring(env, xml_declaration=True, encoding="utf-8"))


GARBLE_MODES = ("truncated", "unexpected", "empty")


def garbled(operation: str, values: list[tuple[str, Any]], how: str) -> bytes:
    """A damaged HTTP 200 answer (see ``CorsaTestServer.garble_next``)."""
    if how == "empty":
        return b""
    if how == "unexpected":
        return response("Unexpected", [("Something", "else")])
    whole = response(operation, values)
    return whole[: max(60, len(whole) // 2)]


def fault(code: str, text: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body><soap:Fault>'
        f"<faultcode>soap:{code}</faultcode><faultstring>{text}</faultstring>"
        "</soap:Fault></soap:Body></soap:Envelope>"
    ).encode()


SoapHandler = Callable[[bytes, str | None], tuple[int, bytes, str | None]]


def make_handler(wsdl: Callable[[], bytes], soap: SoapHandler) -> type[BaseHTTPRequestHandler]:
    """An HTTP handler serving the WSDL on GET and SOAP calls on POST."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body go out in two writes: with Nagle on, the body waits for
        # the client's delayed ACK of the headers, about 40 ms on every call
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: tests and the demo log on the client side

        def _send(self, status: int, body: bytes, ctype: str, cookie: str | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if cookie:
                self.send_header("Set-Cookie", f"{COOKIE}={cookie}; path=/; HttpOnly")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == PATH and parts.query.lower() == "wsdl":
                self._send(200, wsdl(), "text/xml; charset=utf-8")
            else:
                self._send(404, b"Not found", "text/plain")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if urlsplit(self.path).path != PATH:
                self._send(404, b"Not found", "text/plain")
                return
            jar = SimpleCookie(self.headers.get("Cookie") or "")
            session_id = jar[COOKIE].value if COOKIE in jar else None
            status, answer, cookie = soap(body, session_id)
            ctype = "text/xml; charset=utf-8" if answer.startswith(b"<?xml") else "text/html"
            self._send(status, answer, ctype, cookie)

    return Handler
