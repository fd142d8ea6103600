"""No module of the package over 500 lines: a module that grows past it is split by
what its parts do, not left to grow."""

from __future__ import annotations

from pathlib import Path

import imi_mailwatch

PACKAGE = Path(imi_mailwatch.__file__).parent
MAX_LINES = 500


def test_no_package_module_is_over_500_lines() -> None:
    """Every .py file under imi_mailwatch/ has at most 500 lines."""
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in sorted(PACKAGE.rglob("*.py"))
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
