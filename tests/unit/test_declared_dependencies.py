"""Every library tuichat imports is declared in pyproject.toml, not just brought along."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_top_levels(package: Path, root: Path = ROOT) -> dict[str, str]:
    """Each third-party top-level module imported anywhere below ``package`` (in functions
    too), with one file that imports it."""
    found: dict[str, str] = {}
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top != package.name and top not in sys.stdlib_module_names:
                    found.setdefault(top, str(path.relative_to(root)))
    return found


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_distributions() -> set[str]:
    """The distributions named in the dependencies and in every extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    names = (re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", req) for req in requirements)
    return {normalized(name.group()) for name in names if name}


def test_every_imported_library_is_declared() -> None:
    distributions = packages_distributions()
    declared = declared_distributions()
    undeclared = {}
    for module, where in imported_top_levels(ROOT / "tuichat").items():
        provided_by = {normalized(d) for d in distributions.get(module, [module])}
        if not provided_by & declared:
            undeclared[module] = f"{where} (from {', '.join(sorted(provided_by))})"
    assert not undeclared, f"declare these in pyproject.toml: {undeclared}"


def test_the_scan_sees_imports_inside_functions_and_skips_its_own(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "mod.py").write_text(
        "import json\nfrom . import sibling\nfrom pkg import other\n"
        "def later():\n    import certifi.core\n",
        encoding="utf-8",
    )
    assert set(imported_top_levels(package, root=tmp_path)) == {"certifi"}
