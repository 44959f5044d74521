"""The layer rules of DESIGN §3 and the file-size cap, checked on the source text."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "harness_connector"
HARD_CAP_LINES = 800
SOFT_CAP_LINES = 400

# What each top-level part of the package may import from the package. Pure modules of `harness`
# (the registry and the URL parser) are data and parsing, so interfaces may use them directly; the client
# is reached only through services.
PURE_HARNESS = ("harness.registry", "harness.urls")
ALLOWED: dict[str, tuple[str, ...]] = {
    "domain": ("domain", "errors"),
    "errors": (),
    "config": ("errors", "domain", "harness"),
    "harness": ("harness", "domain", "errors"),
    "store": ("store", "domain", "errors"),
    # JUnit parsing turns files into domain records; it knows nothing of Harness or the store.
    "junit": ("junit", "domain", "errors"),
    # Analyses read the store's typed rows (plain dataclasses), never the store itself.
    "analysis": ("analysis", "domain", "errors", "store.rows"),
    "services": ("services", "harness", "store", "analysis", "junit", "domain", "errors", "config"),
    "mcp_server": ("mcp_server", "services", "domain", "errors", "config", *PURE_HARNESS),
    "web": ("web", "services", "domain", "errors", "config", *PURE_HARNESS),
    "cli": ("cli", "mcp_server", "web", "delegate", "sandbox", "services", "domain", "errors", "config", *PURE_HARNESS),
    # The agents read JUnit reports themselves: a delegate uploads what a step's `reports` declare.
    "delegate": ("delegate", "harness", "services", "junit", "domain", "errors", "config"),
    # The sandbox must not share code with the client, or the client would be tested against itself.
    "sandbox": ("sandbox", "domain", "errors"),
    "__init__": (),
    "__main__": ("cli",),
}


def _source_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _part_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py")


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    prefix = "harness_connector."
    return [(line, name.removeprefix(prefix)) for line, name in found if name.startswith(prefix)]


def _allowed(part: str, target: str) -> bool:
    return any(target == rule or target.startswith(rule + ".") for rule in ALLOWED[part])


@pytest.mark.parametrize("path", _source_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_one_way_through_the_layers(path: Path) -> None:
    part = _part_of(path)
    assert part in ALLOWED, f"{part} is a new top-level part: add its import rule to test_architecture.py"
    wrong = [f"line {line}: {target}" for line, target in _imports(path) if not _allowed(part, target)]
    assert wrong == [], f"{path.relative_to(PACKAGE)} ({part}) may not import: {wrong}"


def test_only_the_client_imports_the_http_library() -> None:
    importers = sorted(
        str(path.relative_to(PACKAGE))
        for path in _source_files()
        if any(name.split(".")[0] in ("httpx", "httpx2") for name in _raw_imports(path))
    )
    # The delegate side speaks small fixed protocols (the delegate manager, test agents), not the REST dialect the
    # client maps, and has its own single HTTP module.
    assert importers == ["delegate/wire.py", "harness/client.py"]


def _raw_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_no_file_exceeds_the_hard_size_cap() -> None:
    files = [*_source_files(), *sorted((ROOT / "tests").rglob("*.py")), *sorted((ROOT / "bench").rglob("*.py"))]
    too_long = {
        str(path.relative_to(ROOT)): count
        for path in files
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > HARD_CAP_LINES
    }
    assert too_long == {}, f"split these files (hard cap {HARD_CAP_LINES} lines): {too_long}"


def test_source_modules_mostly_stay_under_the_soft_cap() -> None:
    # The soft cap is a nudge: a few modules may pass it, but not a fifth of them.
    files = _source_files()
    over = [p for p in files if len(p.read_text(encoding="utf-8").splitlines()) > SOFT_CAP_LINES]
    assert len(over) <= max(1, len(files) // 5), f"too many modules over {SOFT_CAP_LINES} lines: {over}"
