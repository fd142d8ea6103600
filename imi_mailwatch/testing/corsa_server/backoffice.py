"""What people do in Corsa itself, outside the Web Service: for tests of the read-back.

A handler completes a document (Corsa fills the completion date and the document
leaves the to-do list); a beheerder moves it to another unit (the route field
changes; in a case, the current step goes to that unit). The real service offers
no operation a client would use for this in the same way, so the test server
offers it as methods, the way a test would do it by hand in Corsa.

A mixin of :class:`~imi_mailwatch.testing.corsa_server.server.CorsaTestServer`,
which provides the attributes declared here.
"""

from __future__ import annotations

import threading
from datetime import date

from imi_mailwatch.testing.corsa_server.profile import InstallationProfile
from imi_mailwatch.testing.corsa_server.state import Case, Document, FieldIndex

COMPLETED_FIELD = "poststuk.dat_afh"  # the completion date in the shipped profiles


class BackOffice:
    """``complete_document`` and ``move_document``: Corsa's own screens, for tests."""

    profile: InstallationProfile
    documents: dict[str, Document]
    cases: dict[str, Case]
    _index: FieldIndex
    _lock: threading.RLock

    def complete_document(self, object_id: str, on: date, *, field: str = COMPLETED_FIELD) -> None:
        """The handler completes the document in Corsa on ``on`` (dd/MM/yyyy in ``field``)."""
        with self._lock:
            doc = self._live(object_id)
            with self._index.changing(doc):
                doc.fields[field] = on.strftime("%d/%m/%Y")
            doc.status = "tlsCompleted"
            for case in self.cases.values():
                if case.object_id == object_id:
                    case.status = "Afgehandeld"

    def move_document(self, object_id: str, unit: str) -> None:
        """A beheerder moves the document to another unit in Corsa (the route field)."""
        with self._lock:
            doc = self._live(object_id)
            with self._index.changing(doc):
                doc.fields[self.profile.unit_field] = unit
            doc.status = "tlsToBeReceived"
            for case in self.cases.values():
                if case.object_id == object_id:
                    case.steps[-1].unit = unit

    def _live(self, object_id: str) -> Document:
        doc = self.documents.get(object_id)
        if doc is None or doc.deleted:
            raise KeyError(f"no live document {object_id}")
        return doc
