"""The container image and the package metadata: what CI tests is what the image runs."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
DEBIAN_RELEASES = {"bookworm", "trixie"}


def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def _base_images() -> list[str]:
    """Every FROM image of the Dockerfile with its ARG defaults filled in."""
    text = _dockerfile()
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", text, flags=re.M))
    images = re.findall(r"^FROM (\S+)", text, flags=re.M)
    return [re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image) for image in images]


def _locked(name: str) -> dict[str, tuple[str, list[str]]]:
    """A lock file as {package: (version, [packages it is required by])}."""
    out: dict[str, tuple[str, list[str]]] = {}
    current = ""
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        pin = re.match(r"^([A-Za-z0-9._-]+)==(\S+)", line)
        if pin:
            current = canonicalize_name(pin.group(1))
            out[current] = (pin.group(2), [])
        via = re.match(r"^\s+#\s+(?:via\s+)?([A-Za-z0-9._-]+)( \(pyproject\.toml\))?$", line)
        if via and current and via.group(1) != "via":
            out[current][1].append(via.group(1) + (" (pyproject.toml)" if via.group(2) else ""))
    return out


def test_the_image_runs_the_python_that_ci_tests_with() -> None:
    """Every FROM is python:X.Y-slim-<Debian release>, X.Y being the Python running the tests."""
    images = _base_images()
    assert len(images) == 2
    ours = f"{sys.version_info.major}.{sys.version_info.minor}"
    for image in images:
        match = re.fullmatch(r"python:(\d+\.\d+)-slim-(\w+)", image.split(" ")[0])
        assert match, f"{image}: not python:X.Y-slim-<release>"
        assert match.group(1) == ours, f"the image has Python {match.group(1)}, CI tests {ours}"
        assert match.group(2) in DEBIAN_RELEASES, f"{image}: not pinned to a Debian release"


def test_the_lock_holds_every_declared_dependency_at_an_allowed_version() -> None:
    """requirements.lock pins each runtime dependency within its floor, and no other directly."""
    locked = _locked("requirements.lock")
    declared = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
    stale = []
    for req in declared:
        name = canonicalize_name(req.name)
        if name not in locked or not req.specifier.contains(locked[name][0], prereleases=True):
            stale.append(f"{req}: locked {locked.get(name, ('nothing',))[0]}")
    direct = {n for n, (_, via) in locked.items() if "imi-mailwatch (pyproject.toml)" in via}
    assert not stale, "run `make lock`: " + "; ".join(stale)
    assert direct == {canonicalize_name(r.name) for r in declared}, "run `make lock`"


def test_the_build_lock_holds_the_build_backend() -> None:
    """requirements-build.lock pins each build-system requirement within its range."""
    locked = _locked("requirements-build.lock")
    for spec in PYPROJECT["build-system"]["requires"]:
        req = Requirement(spec)
        version = locked[canonicalize_name(req.name)][0]
        assert req.specifier.contains(version), f"run `make lock`: {req} locked {version}"


def test_every_locked_package_carries_a_hash() -> None:
    """Each pin in both locks has at least one sha256, so pip --require-hashes accepts them."""
    for name in ("requirements.lock", "requirements-build.lock"):
        blocks = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / name).read_text(encoding="utf-8"))
        pins = [b for b in blocks if re.match(r"[A-Za-z0-9._-]+==", b)]
        assert pins, name
        assert all("--hash=sha256:" in b for b in pins), name


def test_the_image_installs_from_the_locks_only() -> None:
    """The Dockerfile installs both locks with --require-hashes, the package with --no-deps."""
    text = _dockerfile().replace("\\\n", " ")
    installs = re.findall(r"pip install ([^&\n]+)", text)
    assert any("--require-hashes -r requirements-build.lock" in i for i in installs)
    assert any("--require-hashes" in i and "-r requirements.lock" in i for i in installs)
    package = [i for i in installs if i.rstrip().endswith(" .")]
    assert package and all("--no-deps" in i and "--no-build-isolation" in i for i in package)
    assert len(installs) == 3, installs


def test_the_licence_file_is_the_declared_eupl() -> None:
    """pyproject.toml declares EUPL-1.2; LICENSE holds its full text: articles 1-15, appendix."""
    assert PYPROJECT["project"]["license"] == "EUPL-1.2"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("EUROPEAN UNION PUBLIC LICENCE v. 1.2\n")
    articles = re.findall(r"^(\d+)\. ", text, flags=re.M)
    assert articles == [str(n) for n in range(1, 16)]
    assert "Compatible Licences\u2019 according to Article 5 EUPL are:" in text
    assert text.rstrip().endswith("require the production of a new EUPL version.")
