"""Recognise, authenticate and read IMI alerts: bytes in, a Classification out.

Stages (each pure, each its own module): ``mime`` (bytes -> decoded headers and
text, bounded), ``html`` (HTML bodies -> text lines), ``forwards`` (inline
forwards), ``fields`` (labelled values -> ids, dates, member states, activities),
``extract`` (subject and body -> an alert, with where each field was found),
``auth`` (Authentication-Results of the trusted server; DKIM as an option) and
``reader`` (the order of judgement). Layouts are data: ``layouts/*.yaml``, with
overrides from ``alerts.layouts_dir``.
"""

from imi_mailwatch.alerts.layouts import Layouts, load_layouts
from imi_mailwatch.alerts.reader import AlertReader

__all__ = ["AlertReader", "Layouts", "load_layouts"]
