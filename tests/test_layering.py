"""The dependency rules of docs/ARCHITECTURE.md, checked on every module's imports.

Imports point inward: core ← policy ← ... ← cli. ``crossdock.core`` and
``crossdock.policy`` are pure: standard library only (plus core for policy).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "crossdock"

# package → the crossdock packages it may import (itself is always allowed)
ALLOWED_INTERNAL: dict[str, set[str]] = {
    "core": set(),
    "policy": {"core"},
    "oci": {"core"},
    "storage": {"core", "oci", "policy"},
    "auth": {"core", "policy", "storage"},
    "service": {"core", "policy", "oci", "storage", "auth"},
    "api": {"core", "policy", "oci", "storage", "auth", "service", "settings"},
    "cli": {"core", "policy", "oci", "storage", "auth", "service", "api", "settings"},
    # the pytest plugin: starts servers and reads their data dir, like the CLI (not the CLI)
    "testing": {"core", "policy", "oci", "storage", "auth", "service", "api", "settings"},
}
# `settings` is a top-level module, read by the composition root (api) and the CLI.
PURE = {"core", "policy", "oci"}
# single modules a package may import against the arrows: auth raises the services'
# AuthenticationError (service/errors.py imports only core and policy)
ALLOWED_MODULES: dict[str, set[str]] = {"auth": {"crossdock.service.errors"}}


def _imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
    return found


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _package_of(path: Path) -> str | None:
    parts = path.relative_to(SRC).parts
    return parts[0] if len(parts) > 1 else None


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_inward(path: Path) -> None:
    package = _package_of(path)
    if package is None:
        return  # top-level modules (__init__, __main__) are the composition edge
    assert package in ALLOWED_INTERNAL, f"add the package `{package}` to the layering rules"
    allowed = ALLOWED_INTERNAL[package] | {package}
    for module, line in _imports(path):
        top = module.split(".")[0]
        if top == "crossdock":
            if module == "crossdock":
                continue  # the package root holds only the version
            target = module.split(".")[1]
            if module in ALLOWED_MODULES.get(package, set()):
                continue
            assert target in allowed, f"{path.name}:{line} imports {module} (not allowed)"
        elif package in PURE:
            is_stdlib = top in sys.stdlib_module_names or top == "__future__"
            assert is_stdlib, f"{path.name}:{line} imports third-party `{module}` in a pure package"


def test_every_package_has_rules() -> None:
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages <= set(ALLOWED_INTERNAL), packages - set(ALLOWED_INTERNAL)


def test_rule_catches_a_wrong_arrow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import click\nfrom crossdock.cli import main\n", encoding="utf-8")
    assert [m for m, _ in _imports(bad)] == ["click", "crossdock.cli"]
