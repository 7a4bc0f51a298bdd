"""The house keeps its shape: imports between folders run one way, as docs/architecture.md draws them.

Every import in src/jsontune (lazy ones inside functions included) is read from the source, and each
module is placed on its floor; a module may import its own floor's folder and the floors below, never
a floor above. Only the command line imports the benchmarks.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests import REPO

PACKAGE = REPO / "src" / "jsontune"
# Floors, bottom first (docs/architecture.md). A top-level module is a floor of its own.
FLOORS = [
    {"errors"},
    {"files"},
    {"run_dir", "memory"},
    {"data"},
    {"models"},
    {"decoding"},
    {"evaluation"},
    {"recipe"},
    {"training"},
    {"serving"},
    {"benchmarks"},
    {"api"},
    {"cli", "__init__"},
]


def _room(module: str) -> str:
    """jsontune.decoding.constrained.bounds -> decoding; jsontune.recipe -> recipe; jsontune -> __init__."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _floor(room: str) -> int:
    return next(i for i, rooms in enumerate(FLOORS) if room in rooms)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> list[tuple[str, str, int]]:
    """(importer, imported jsontune module, line) for every import statement in the package."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "jsontune":
                base = node.module
                for alias in node.names:  # `from jsontune import api` imports the module jsontune.api
                    candidate = f"{base}.{alias.name}"
                    is_module = (PACKAGE.parent / Path(*candidate.split("."))).with_suffix(".py").is_file() or \
                        (PACKAGE.parent / Path(*candidate.split("."))).is_dir()
                    found.append((importer, candidate if is_module else base, node.lineno))
            elif isinstance(node, ast.Import):
                found += [(importer, a.name, node.lineno) for a in node.names if a.name.split(".")[0] == "jsontune"]
    return found


def test_every_room_of_the_package_has_a_floor():
    rooms = {_room(_module_name(path)) for path in PACKAGE.rglob("*.py")}
    assert rooms <= set().union(*FLOORS), rooms - set().union(*FLOORS)


def test_the_top_of_the_package_holds_at_most_eight_modules():
    assert len(list(PACKAGE.glob("*.py"))) <= 8


def test_no_import_runs_up_a_floor_or_sideways_into_another_folder():
    imports = _imports()
    wrong = [f"{importer}:{line} imports {imported}" for importer, imported, line in imports
             if _room(importer) != _room(imported) and imported != "jsontune"
             and _floor(_room(imported)) >= _floor(_room(importer))]
    assert len(imports) > 100 and not wrong, "\n".join(wrong)


def test_only_the_command_line_imports_the_benchmarks():
    importers = {importer for importer, imported, _ in _imports()
                 if _room(imported) == "benchmarks" and _room(importer) != "benchmarks"}
    assert importers <= {"jsontune.cli"}, importers
