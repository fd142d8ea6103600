"""The one YAML loader: YAML 1.2 core-schema scalars, no aliases, bounded size."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from imi_mailwatch.yamlsource import MAX_YAML_BYTES, load_yaml, read_limited


def _data(text: str) -> object:
    doc = load_yaml(text, "t.yaml")
    assert doc.problems == []
    return doc.data


def test_yaml11_sexagesimal_is_a_string_under_yaml12() -> None:
    """`8:30` and `1:20:30` stay strings (YAML 1.1 made them base-60 numbers)."""
    assert _data("a: 8:30\nb: 1:20:30\nc: -1:30") == {"a": "8:30", "b": "1:20:30", "c": "-1:30"}


def test_yaml11_boolean_words_stay_strings() -> None:
    """Norway's `NO`, and yes/no/on/off/y/n in any case, are text; only true/false are booleans."""
    words = ["NO", "no", "No", "yes", "Yes", "on", "off", "ON", "y", "n", "Y", "N"]
    text = "\n".join(f"k{i}: {w}" for i, w in enumerate(words))
    assert _data(text) == {f"k{i}": w for i, w in enumerate(words)}
    assert _data("a: true\nb: False\nc: TRUE") == {"a": True, "b": False, "c": True}


def test_yaml12_numbers_octal_hex_and_leading_zeros() -> None:
    """`0o17` is octal, `017` decimal, `0x1F` hex; YAML 1.1-only forms stay strings."""
    data = _data("a: 0o17\nb: 017\nc: 0x1F\nd: 0b101\ne: 1_000\nf: 1.5e3\ng: .inf\nh: -12")
    assert data == {
        "a": 15,
        "b": 17,
        "c": 31,
        "d": "0b101",
        "e": "1_000",
        "f": 1500.0,
        "g": float("inf"),
        "h": -12,
    }


def test_yaml12_nulls_and_dates() -> None:
    """`~`, `null` and empty are None; a date stays text for the schema to parse."""
    assert _data("a: ~\nb: null\nc:\nd: 2026-11-16\ne: '='") == {
        "a": None,
        "b": None,
        "c": None,
        "d": "2026-11-16",
        "e": "=",
    }


def test_yaml_merge_key_is_not_special() -> None:
    """`<<` is an ordinary key under YAML 1.2 (and aliases are refused anyway)."""
    assert _data("'<<': x") == {"<<": "x"}


def _bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_with_its_line() -> None:
    """Billion laughs (nine levels of aliases) is refused before expansion, placed, in Dutch."""
    doc = load_yaml(_bomb(), "regels.yaml", lang="nl")
    assert doc.data is None
    assert len(doc.problems) == 1
    text = doc.problems[0].render("nl")
    assert text.startswith("regels.yaml:1:")
    assert "ankers" in text and "niet toegestaan" in text


def test_a_single_alias_is_refused_too() -> None:
    """Anchors and aliases are refused even when small: the loader accepts no references."""
    doc = load_yaml("a: &x 1\nb: *x\n", "c.yaml")
    assert doc.data is None
    assert doc.problems and doc.problems[0].mark is not None
    assert "alias" in doc.problems[0].message


def test_alias_bomb_stays_within_bounded_memory() -> None:
    """A billion-laughs file, in a process with 4 GB of address space, is refused in bounds."""
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))\n"
        "from imi_mailwatch.yamlsource import load_yaml\n"
        "doc = load_yaml(sys.stdin.read(), 'bomb.yaml', lang='nl')\n"
        "print(doc.problems[0].render('nl'))\n"
        # VmHWM is this program's own peak; ru_maxrss would include the forking pytest's
        "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=_bomb(),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    refusal, max_rss_kib = done.stdout.splitlines()
    assert "niet toegestaan" in refusal
    assert int(max_rss_kib) < 256 * 1024  # the expansion would need gigabytes


def test_a_text_over_the_size_bound_is_refused_before_parsing() -> None:
    """A document larger than MAX_YAML_BYTES is refused without being parsed."""
    doc = load_yaml("a: " + "x" * MAX_YAML_BYTES, "big.yaml", lang="nl")
    assert doc.data is None
    assert "groter dan" in doc.problems[0].message


def test_read_limited_refuses_a_large_file(tmp_path: Path) -> None:
    """Reading a file stops after the bound and raises OSError with a readable reason."""
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_YAML_BYTES + 1))
    with pytest.raises(OSError) as info:
        read_limited(big)
    assert "1 MB" in str(info.value.strerror)
    small = tmp_path / "small.yaml"
    small.write_bytes(b"a: 1\n")
    assert read_limited(small) == b"a: 1\n"


def _rules_check(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "imi_mailwatch", "rules", "check", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        cwd=Path(__file__).resolve().parents[2],
    )


def test_rules_check_refuses_an_alias_bomb_in_dutch(tmp_path: Path) -> None:
    """`rules check` on a billion-laughs rules file answers 78, placed, with a Dutch reason."""
    bomb = tmp_path / "10-regels.yaml"
    bomb.write_text("teams:\n  t: {naam: T}\n" + _bomb(), encoding="utf-8")
    done = _rules_check(bomb)
    assert done.returncode == 78, done.stderr
    assert f"{bomb}:3:" in done.stderr and "niet toegestaan" in done.stderr


def test_rules_check_refuses_a_rules_file_over_the_bound(tmp_path: Path) -> None:
    """A rules file over 1 MB is not read: `rules check` names it and the bound, in Dutch."""
    big = tmp_path / "10-regels.yaml"
    big.write_bytes(b"# " + b"x" * MAX_YAML_BYTES + b"\n")
    done = _rules_check(big)
    assert done.returncode == 78, done.stderr
    assert str(big) in done.stderr and "groter dan 1 MB" in done.stderr
