"""SQL lives in the state-store adapters only: the core asks the ports questions.

An AST scan of every module of the package outside ``adapters/sqlite/`` (and a
later ``adapters/postgres/``): no string constant, f-string part included, that
starts with an SQL statement, and no call of ``.execute``, ``.executemany``,
``.executescript`` or ``.query`` on anything.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import imi_mailwatch

PACKAGE = Path(imi_mailwatch.__file__).parent
SQL_HOMES = ("adapters/sqlite/", "adapters/postgres/")
STATEMENT = re.compile(
    r"^\s*(SELECT\s|INSERT\s+(OR\s+\w+\s+)?INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s"
    r"|CREATE\s+(UNIQUE\s+)?(TABLE|INDEX)\s|ALTER\s+TABLE\s|DROP\s+(TABLE|INDEX)\s|PRAGMA\s"
    r"|BEGIN(\s+IMMEDIATE)?\s*$|COMMIT\s*$|ROLLBACK\s*$)"
)
SQL_CALLS = frozenset({"execute", "executemany", "executescript", "query"})


def sql_found(source: str) -> list[str]:
    """Where a module's source holds SQL: ``line: what``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if STATEMENT.match(node.value):
                found.append(f"{node.lineno}: SQL text {node.value.strip()[:40]!r}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SQL_CALLS
        ):
            found.append(f"{node.lineno}: call of .{node.func.attr}()")
    return found


def test_no_sql_outside_the_state_adapters() -> None:
    """No module of the package outside adapters/sqlite (and postgres) holds SQL."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(SQL_HOMES):
            continue
        offenders += [f"{rel}:{hit}" for hit in sql_found(path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_scan_sees_sql_in_its_forms() -> None:
    """The scan catches plain and f-string SQL and the calls that run it, not prose."""
    source = (
        'a = "SELECT * FROM requests"\n'
        'b = f"DELETE FROM audit WHERE id IN ({marks})"\n'
        'c = "  UPDATE outbox SET payload = ?"\n'
        'd = "INSERT OR IGNORE INTO notices (key) VALUES (?)"\n'
        "store.execute(x)\n"
        "store.query(y)\n"
        'e = "Select a team"\n'
        'f = "update the rules"\n'
    )
    assert sorted(int(hit.split(":")[0]) for hit in sql_found(source)) == [1, 2, 3, 4, 5, 6]
