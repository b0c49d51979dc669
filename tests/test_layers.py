"""The house's shape, checked on every `make lint` and `make test`: which layer may import which.

From the top: the faces (`app.py`, `ui/`, `copqa/cli/main.py` and the `copqa/*_cli.py` command
modules), then `eval/` over `ingest/`, then copqa's stages. No layer imports one above it,
the package never imports `tests`, and no modules import each other in a circle. Imports
under `if TYPE_CHECKING:` are types only and are not counted; imports inside functions are.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

from tests.support.paths import REPO

PACKAGES = ("copqa", "ingest", "eval", "ui")


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every absolute import in a file (as `a.b` and `a.b.name`), TYPE_CHECKING blocks left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the project's modules (and `tests` modules) it imports."""
    files = [p for package in PACKAGES for p in (root / package).rglob("*.py")]
    files += [p for p in (root / "app.py",) if p.is_file()]
    modules = {module_name(root, p): p for p in files}
    return {
        name: {m for m in imports_of(path) if m in modules or m.split(".")[0] == "tests"}
        for name, path in modules.items()
    }


def layer(module: str) -> int:
    """3 faces, 2 eval, 1 ingest, 0 copqa's stages; tests are outside every layer (-1)."""
    top = module.split(".")[0]
    if top in ("app", "ui") or module == "copqa.cli" or module.startswith("copqa.cli."):
        return 3
    return {"eval": 2, "ingest": 1, "copqa": 0}.get(top, -1)


def stage(module: str) -> str | None:
    """The stage folder a module sits in (`copqa.store` for `copqa.store.catalog`), if any."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 else None


def violations(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            folder = stage(target)
            if target.split(".")[0] == "tests":
                found.append(f"{module} imports {target}: the package never imports tests")
            elif layer(target) > layer(module):
                found.append(f"{module} imports {target}, a layer above it")
            elif folder and target in graph and folder != stage(module) and folder != module:
                found.append(f"{module} imports {target}: outside {folder}, only its face")
    return found


STORE_PARTS = (
    "_catalog",
    "_database",
    "_vectors",
    "_forget_requests",
    "catalog",
    "database",
    "vectors",
)


def reach_throughs(root: Path) -> list[str]:
    """`store.<part>` (or `._store.<part>`) outside copqa/store/: the Store's parts used directly."""
    found = []
    files = [p for package in PACKAGES for p in (root / package).rglob("*.py")]
    for path in sorted(files):
        if path.is_relative_to(root / "copqa" / "store"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Attribute) and node.attr in STORE_PARTS):
                continue
            owner = node.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if name.lstrip("_") == "store" or name.endswith("_store"):
                where = f"{path.relative_to(root)}:{node.lineno}"
                found.append(f"{where}: {ast.unparse(node)} reaches through the Store")
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = itertools.count()

    def visit(module: str) -> None:
        index[module] = low[module] = next(counter)
        stack.append(module)
        for target in graph.get(module, ()):
            if target not in graph:
                continue
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return groups


def test_no_layer_imports_one_above_it_and_nothing_imports_tests() -> None:
    assert violations(import_graph(REPO)) == []


def test_nothing_outside_the_store_reaches_through_it() -> None:
    assert reach_throughs(REPO) == []


def test_no_modules_import_each_other_in_a_circle() -> None:
    assert circles(import_graph(REPO)) == []


def test_the_checks_see_a_face_imported_a_part_reached_and_a_circle(tmp_path: Path) -> None:
    files = {
        "copqa/__init__.py": "",
        "copqa/store/__init__.py": "from copqa.store.store import Store\n",
        "copqa/store/store.py": "from copqa.cli import main\nfrom tests.cli import run_copqa\n",
        "copqa/store/catalog.py": "",
        "copqa/answering/__init__.py": "",
        "copqa/answering/quote.py": "from copqa.store import Store\nfrom copqa.store.catalog import C\n",
        "copqa/cli/__init__.py": "",
        "copqa/cli/main.py": "def main(store):\n    return store.catalog, store.counts()\n",
        "ingest/__init__.py": "",
        "ingest/a.py": "import ingest.b\n",
        "ingest/b.py": "def f(self):\n    from ingest.a import g\n    self._store._vectors.reset()\n",
        "ingest/typed.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import ui.page\n",
        "ui/__init__.py": "",
        "ui/page.py": "",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = import_graph(tmp_path)
    assert violations(graph) == [
        "copqa.answering.quote imports copqa.store.catalog: outside copqa.store, only its face",
        "copqa.store.store imports copqa.cli, a layer above it",
        "copqa.store.store imports copqa.cli.main, a layer above it",
        "copqa.store.store imports tests.cli: the package never imports tests",
        "copqa.store.store imports tests.cli.run_copqa: the package never imports tests",
    ]
    assert circles(graph) == [["ingest.a", "ingest.b"]]
    assert reach_throughs(tmp_path) == [
        "copqa/cli/main.py:2: store.catalog reaches through the Store",
        "ingest/b.py:3: self._store._vectors reaches through the Store",
    ]


@pytest.mark.parametrize(
    ("module", "expected"),
    [("app", 3), ("ui.page", 3), ("copqa.cli", 3), ("copqa.cli.tune", 3), ("eval.bench.load", 2),
     ("ingest.pipeline", 1), ("copqa.store.store", 0), ("copqa.assistant", 0)],
)  # fmt: skip
def test_layers_of_the_house(module: str, expected: int) -> None:
    assert layer(module) == expected
