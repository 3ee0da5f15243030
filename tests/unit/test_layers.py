"""The package's shape: layers that import downward only, no circles, one door to S3, short modules.

The package's modules are read as source (imports inside functions and under TYPE_CHECKING
count). Each top-level folder or module is a unit with a rank; a module may import modules of a
lower rank, and modules of its own unit, but never a higher or equal-ranked other unit.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "django_minio_backend"
ROOT = Path(__file__).resolve().parents[2] / PACKAGE

# Lowest first: what each unit is for is in CONTRIBUTE.md ("The layers").
RANKS = {
    "errors": 0,
    "names": 0,
    "conf": 1,
    "core": 2,
    "files": 3,
    "storage": 4,
    "staticfiles": 5,
    "ops": 6,
    "serving": 6,
    "uploads": 6,
    "checks": 7,
    "models": 8,
    "fields": 8,
    "toolbar": 8,
    "apps": 8,
    "forms": 8,
    "drf": 8,
    "urls": 9,
    "utils": 9,
    "management": 9,
    "__init__": 10,
    "testing": 11,
}
MINIO_ALLOWED = {"core", "conf", "testing"}
MAX_LINES = 450
MAX_ADAPTER_LINES = 350


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imported(module: str, path: Path) -> set[str]:
    """Package modules ``module`` imports anywhere in its source, resolved to dotted names."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith(PACKAGE))
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, node.module] if node.module else base)
            if not target.startswith(PACKAGE):
                continue
            if node.module:  # ``from . import x`` imports x, not the package it sits in
                found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {
        module: {target for target in imported(module, path) if target in known and target != module}
        for module, path in known.items()
    }


def test_every_unit_has_a_rank():
    assert {unit(module) for module in modules()} <= set(RANKS)


def test_imports_point_down_only():
    upward = [
        f"{module} -> {target}"
        for module, targets in graph().items()
        for target in targets
        if unit(target) != unit(module) and RANKS[unit(target)] >= RANKS[unit(module)]
    ]
    assert upward == []


def test_the_checks_read_the_configuration_alone():
    allowed = {"conf", "errors", "names", "checks"}
    assert {unit(target) for target in graph()[f"{PACKAGE}.checks"]} <= allowed


def test_no_import_circles():
    edges = graph()
    state: dict[str, str] = {}
    circles: list[list[str]] = []

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for target in sorted(edges[module]):
            if state.get(target) == "open":
                circles.append([*trail[trail.index(target) :], target])
            elif target not in state:
                visit(target, [*trail, target])
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert circles == []


def test_only_the_core_talks_to_s3():
    """Every request goes through core/: nothing else imports minio (conf/ for option types)."""
    outside = []
    for module, path in modules().items():
        if unit(module) in MINIO_ALLOWED:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            if any(name == "minio" or name.startswith("minio.") for name in names):
                outside.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert outside == []


@pytest.mark.parametrize("module", sorted(m for m in modules() if unit(m) != "testing"))
def test_modules_stay_short(module):
    lines = len(modules()[module].read_text(encoding="utf-8").splitlines())
    limit = MAX_ADAPTER_LINES if module == f"{PACKAGE}.storage.backend" else MAX_LINES
    assert lines <= limit, f"{module} has {lines} lines (at most {limit})"
