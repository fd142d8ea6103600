"""Privacy by design: the retention policy of the daemon's own copies and request histories.

``retention`` decides (pure) and applies (one transaction) what is removed when;
``history`` renders the audit trail of one request as text, CSV or PDF.
See docs/privacy.md for the data inventory.
"""
