"""Minimisation: free text reduced to what routing and the memo need. Pure.

The request's life (``lifecycle``) calls these before a request is recorded, so that what a parser
happened to capture (an authority's contact lines, an official's name and
address in a forwarded alert) is not kept beyond its use.
"""

from __future__ import annotations

import re

AUTHORITY_MAX = 150

# where contact details start: an address, a link, a number, or a label that announces them
_CONTACT = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|\b(?:https?://|www\.)"
    r"|\+?\d[\d ()./-]{6,}\d"
    r"|\b(?:contact(?:persoon|person)?|kontakt|tel(?:efoon|efon|ephone)?|phone|fax|e-?mail"
    r"|mail|attn|t\.a\.v|z\.\s?hd|ansprechpartner(?:in)?|personne de contact)\b",
    re.IGNORECASE,
)
_LEFT_OVER = re.compile(r"[\s,;:.()<>\[\]/|-]+$")


def authority_name(text: str | None) -> str | None:
    """The name of a requesting authority only: its first line, without contact details.

    An authority's name is what the task summary shows; a label that caught more
    (a contact person, an address, an e-mail address or a telephone number on the
    following lines) is cut to the first line, and that line is cut where contact
    details begin (an address, a link, a number, "contact:", "tel."). None when
    nothing is left.
    """
    if not text:
        return None
    first = next((line for line in text.splitlines() if line.strip()), "")
    found = _CONTACT.search(first)
    if found is not None:
        first = first[: found.start()]
    name = _LEFT_OVER.sub("", " ".join(first.split()))
    if len(name) > AUTHORITY_MAX:
        name = name[: AUTHORITY_MAX - 1].rstrip() + "…"
    return name or None
