"""The test server's WSDL against the real Corsa 7.2 WSDL: same operations, elements and types."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest
from lxml import etree

from imi_mailwatch.adapters.corsa_soap import USED_OPERATIONS

REAL_WSDL = Path(__file__).resolve().parents[2] / ".." / "shared" / "corsa" / "Corsa72WS4j.wsdl"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
XSD = "http://www.w3.org/2001/XMLSchema"
SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
NS = {"w": WSDL, "s": XSD, "soap": SOAP}


class Wsdl:
    """The parts of a WSDL the comparison needs."""

    def __init__(self, data: bytes) -> None:
        self.root = etree.fromstring(data, etree.XMLParser(resolve_entities=False))
        schema = self.root.find("w:types/s:schema", NS)
        assert schema is not None
        self.elements = {e.get("name"): e for e in schema.findall("s:element", NS)}
        self.complex = {e.get("name"): e for e in schema.findall("s:complexType", NS)}
        self.simple = {e.get("name"): e for e in schema.findall("s:simpleType", NS)}
        self.messages = {
            m.get("name"): m.find("w:part", NS).get("element")  # type: ignore[union-attr]
            for m in self.root.findall("w:message", NS)
        }
        port = self.root.find("w:portType", NS)
        assert port is not None
        self.operations = {o.get("name"): o for o in port.findall("w:operation", NS)}
        binding = self.root.find("w:binding", NS)
        assert binding is not None
        self.actions = {
            o.get("name"): o.find("soap:operation", NS).get("soapAction")  # type: ignore[union-attr]
            for o in binding.findall("w:operation", NS)
        }

    def io(self, operation: str) -> tuple[str, str]:
        op = self.operations[operation]
        msg_in = op.find("w:input", NS).get("message").split(":")[-1]  # type: ignore[union-attr]
        msg_out = op.find("w:output", NS).get("message").split(":")[-1]  # type: ignore[union-attr]
        return (
            self.messages[msg_in].split(":")[-1],
            self.messages[msg_out].split(":")[-1],
        )

    @staticmethod
    def children(node: etree._Element) -> list[tuple[str, str, str, str]]:
        return [
            (e.get("name"), e.get("type"), e.get("minOccurs"), e.get("maxOccurs"))
            for e in node.iter(f"{{{XSD}}}element")
            if e is not node
        ]

    def element_children(self, name: str) -> list[tuple[str, str, str, str]]:
        return self.children(self.elements[name])

    def enum(self, name: str) -> set[str]:
        return {e.get("value") for e in self.simple[name].iter(f"{{{XSD}}}enumeration")}


@pytest.fixture(scope="module")
def ours() -> Wsdl:
    """The test server's WSDL as shipped in the package."""
    data = resources.files("imi_mailwatch.testing").joinpath("corsa_test.wsdl").read_bytes()
    return Wsdl(data)


@pytest.fixture(scope="module")
def real() -> Wsdl:
    """The real Corsa 7.2 WSDL (Java-friendly variant), when it lies beside the repository."""
    if not REAL_WSDL.is_file():
        pytest.skip(
            "the reference WSDL ../shared/corsa/Corsa72WS4j.wsdl beside the repository is not "
            "present here; the conformance check needs it"
        )
    return Wsdl(REAL_WSDL.read_bytes())


def _types_used(w: Wsdl, children: list[tuple[str, str, str, str]]) -> set[str]:
    return {t.split(":", 1)[1] for _, t, _, _ in children if t and t.startswith("tns:")}


def test_every_used_operation_is_in_the_test_wsdl(ours: Wsdl) -> None:
    """The client calls only operations that the test server's WSDL declares."""
    assert set(USED_OPERATIONS) <= set(ours.operations)


def test_operations_exist_in_the_real_wsdl_with_the_same_soap_action(
    ours: Wsdl, real: Wsdl
) -> None:
    """Every operation of the test WSDL exists in the real one, with the same SOAPAction."""
    for name in ours.operations:
        assert name in real.operations, name
        assert ours.actions[name] == real.actions[name], name
        assert ours.io(name) == real.io(name), name


def test_request_and_response_elements_match_the_real_wsdl(ours: Wsdl, real: Wsdl) -> None:
    """Each request and response element has the same children (name, type, occurrence)."""
    for name in ours.operations:
        for element in ours.io(name):
            assert ours.element_children(element) == real.element_children(element), element


def test_complex_and_simple_types_match_the_real_wsdl(ours: Wsdl, real: Wsdl) -> None:
    """Every named type the test WSDL uses has the real type's fields and enumeration values."""
    pending = set(ours.complex) | set(ours.simple)
    for name in sorted(pending):
        if name in ours.complex:
            assert name in real.complex, name
            assert Wsdl.children(ours.complex[name]) == Wsdl.children(real.complex[name]), name
        else:
            assert name in real.simple, name
            assert ours.enum(name) == real.enum(name), name


def test_the_test_wsdl_names_every_type_it_uses(ours: Wsdl) -> None:
    """No element of the test WSDL refers to a type it does not define."""
    used: set[str] = set()
    for el in ours.elements.values():
        used |= _types_used(ours, Wsdl.children(el))
    for ct in ours.complex.values():
        used |= _types_used(ours, Wsdl.children(ct))
    assert used <= set(ours.complex) | set(ours.simple)


def test_service_names_match_the_real_wsdl(ours: Wsdl, real: Wsdl) -> None:
    """Namespace, port type and binding names are the real service's, so create_service works."""
    for w in (ours, real):
        assert w.root.get("targetNamespace") == "http://bct.nl"
    assert ours.root.find("w:portType", NS).get("name") == "CORSA72WS4jSoap"  # type: ignore[union-attr]
    real_bindings = {b.get("name") for b in real.root.findall("w:binding", NS)}
    assert {b.get("name") for b in ours.root.findall("w:binding", NS)} <= real_bindings
    assert re.match(r"^tns:", ours.root.find("w:binding", NS).get("type"))  # type: ignore[union-attr, arg-type]
