"""The package's shape: layers that only point down, no import cycles, no imports hidden in
functions (they were how the cycles used to be dodged).

Read from the source (ast), so a test fails before anything is imported.  An import inside
``if TYPE_CHECKING:`` is for type hints only and never runs: it is not an edge.
``from linkage.x import y`` where ``linkage.x.y`` is a module is an edge to that module only.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "linkage"

# Lower number = lower layer.  A module may import its own layer or a lower one.  The longest
# matching prefix decides; every module must match one (a new module gets a place here).
BASE, STEPS, RUNS, INTERFACES = 0, 1, 2, 3
LAYERS: dict[str, int] = {
    "linkage": BASE,  # the package's __init__ (version)
    "linkage.errors": BASE, "linkage.schema": BASE, "linkage.config": BASE,
    "linkage.contracts": BASE, "linkage.connection": BASE, "linkage.crash": BASE,
    "linkage.csvsafe": BASE, "linkage.csv_records": BASE, "linkage.file_lock": BASE,
    "linkage.outputs": BASE, "linkage.progress": BASE, "linkage.shipped": BASE,
    "linkage.code_signature": BASE, "linkage.human": BASE, "linkage.divisions": BASE,
    "linkage.rule_sql": BASE, "linkage.gc_pause": BASE,
    # steps: ingest, standardise, block/score, cluster, decide, write
    "linkage.ingest": STEPS, "linkage.prepare": STEPS, "linkage.standardise": STEPS,
    "linkage.model": STEPS, "linkage.blocking_guard": STEPS, "linkage.cluster": STEPS,
    "linkage.decide": STEPS, "linkage.resolve": STEPS, "linkage.newborn": STEPS,
    "linkage.comove": STEPS,
    "linkage.review_cap": STEPS, "linkage.review_fold": STEPS,
    "linkage.review_items": STEPS, "linkage.summary": STEPS, "linkage.state": STEPS,
    "linkage.review": STEPS,  # the review store the runs read verdicts from and queue into
    "linkage.review.store": STEPS, "linkage.review.household": STEPS,
    "linkage.review.triage": STEPS, "linkage.review.facts": STEPS, "linkage.review.mask": STEPS,
    "linkage.spark.dialect": STEPS, "linkage.spark.session": STEPS,
    "linkage.spark.standardise": STEPS, "linkage.exams": STEPS,
    # runs
    "linkage.pipeline": RUNS, "linkage.state.nightly": RUNS, "linkage.state.unmerge": RUNS,
    "linkage.spark.run": RUNS, "linkage.spark": RUNS, "linkage.exams.run": RUNS,
    "linkage.exams.__init__": RUNS,
    # interfaces and tools
    "linkage.cli": INTERFACES, "linkage.explain": INTERFACES, "linkage.report": INTERFACES,
    "linkage.review.commands": INTERFACES, "linkage.review.screen": INTERFACES,
    "linkage.review.session": INTERFACES, "linkage.review.stats": INTERFACES,
    "linkage.review.__main__": INTERFACES, "linkage.bench": INTERFACES,
    "linkage.synth": INTERFACES, "linkage.exams.synth": INTERFACES,
    "linkage.spark.submit": INTERFACES,
}

# Imports that may stay inside a function, each with its reason.
LAZY_ALLOWED: dict[tuple[str, str], str] = {
    ("linkage.pipeline", "linkage.spark.run"): "pyspark is the optional [spark] extra",
    # One benchmark system per process: its peak memory must not include the others' imports.
    ("linkage.bench.worker", "linkage.synth"): "peak memory of one system",
    ("linkage.bench.worker", "linkage.pipeline"): "peak memory of one system",
    ("linkage.bench.worker", "linkage.bench.baselines"): "peak memory of one system",
    ("linkage.bench.worker", "linkage.errors"): "peak memory of one system",
    ("linkage.bench.worker", "pyarrow.parquet"): "peak memory of one system",
    ("linkage.bench.report", "duckdb"): "only for its version string (machine facts)",
}
# Third-party modules that are optional, or slow to import and needed by few calls.
LAZY_THIRD_PARTY = {"pyspark", "py4j", "rich", "openpyxl", "vl_convert", "borax", "pypinyin",
                    "opencc", "cn2an", "four_corner_method", "splink", "resource"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE_DIR.rglob("*.py"))}


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The linkage modules an import statement loads (by the rule in the module docstring)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module.split(".") if _is_package(module) else module.split(".")[:-1]
            package = package[:len(package) - node.level + 1]
            base = ".".join(package + ([base] if base else []))
        subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES]
        names = subs if len(subs) == len(node.names) else [base, *subs]
    out = []
    for name in names:
        while name not in MODULES and "." in name:
            name = name.rsplit(".", 1)[0]
        if name in MODULES:
            out.append(name)
    return out


def _imports(module: str) -> tuple[set[str], list[tuple[int, str]]]:
    """(linkage modules imported at module level, [(line, name)] of imports in functions)."""
    tree = ast.parse(MODULES[module].read_bytes())
    top: set[str] = set()
    nested: list[tuple[int, str]] = []

    def visit(body: list[ast.stmt], in_function: bool) -> None:
        for stmt in body:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                if in_function:
                    raw = stmt.module if isinstance(stmt, ast.ImportFrom) else stmt.names[0].name
                    if isinstance(stmt, ast.ImportFrom) and stmt.level:
                        raw = "linkage." + (raw or "")
                    for target in _targets(module, stmt) or [raw or ""]:
                        nested.append((stmt.lineno, target))
                else:
                    top.update(_targets(module, stmt))
            elif isinstance(stmt, ast.If) and "TYPE_CHECKING" in ast.unparse(stmt.test):
                continue
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(stmt.body, True)
            else:
                for field in ("body", "orelse", "finalbody", "handlers"):
                    visit(getattr(stmt, field, []) or [], in_function)

    visit(tree.body, False)
    return top - {module}, nested


GRAPH = {m: _imports(m)[0] for m in MODULES}


def _layer(module: str) -> int:
    key = module
    if _is_package(module) and f"{module}.__init__" in LAYERS:
        return LAYERS[f"{module}.__init__"]
    while key not in LAYERS or (key == "linkage" and module != "linkage"):
        if key.count(".") < 1:
            raise KeyError(module)  # "linkage" alone is the package's __init__, no catch-all
        key = key.rsplit(".", 1)[0]
    return LAYERS[key]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    assert _cycles(GRAPH) == []


def test_every_module_has_a_layer() -> None:
    missing = []
    for module in MODULES:
        try:
            _layer(module)
        except KeyError:
            missing.append(module)
    assert missing == [], "give these modules a layer in tests/test_structure.py: LAYERS"


def test_layers_only_point_down() -> None:
    upward = sorted(f"{m} (layer {_layer(m)}) imports {t} (layer {_layer(t)})"
                    for m, targets in GRAPH.items() for t in targets if _layer(t) > _layer(m))
    assert upward == []


def test_no_step_imports_a_run() -> None:
    runs = {m for m in MODULES if _layer(m) == RUNS}
    assert runs >= {"linkage.pipeline", "linkage.state.nightly"}
    steps = [m for m in MODULES if _layer(m) <= STEPS]
    assert [(m, sorted(GRAPH[m] & runs)) for m in steps if GRAPH[m] & runs] == []


def test_no_function_level_imports_beyond_the_allowed() -> None:
    hidden = []
    for module in MODULES:
        for line, target in _imports(module)[1]:
            if (module, target) in LAZY_ALLOWED:
                continue
            if target.split(".")[0] == "linkage" or target.split(".")[0] not in LAZY_THIRD_PARTY:
                hidden.append(f"{module}:{line} imports {target}")
    assert hidden == []


@pytest.mark.parametrize("module", ["linkage.state.nightly", "linkage.state.publish",
                                    "linkage.state.commit", "linkage.summary", "linkage.resolve"])
def test_the_old_cycle_stays_broken(module: str) -> None:
    """The nightly run, the state commit and the writer once imported the stateless run."""
    assert "linkage.pipeline" not in GRAPH[module]


def _night_tables(module: str) -> set[str]:
    """``night_*`` table names spelled in a module's code (docstrings and comments aside)."""
    tree = ast.parse(MODULES[module].read_bytes())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    return {name for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings
            for name in re.findall(r"\bnight_[a-z_]+", node.value)}


def test_each_night_table_is_named_in_one_module() -> None:
    """The nightly run's intermediate tables have owners: a name is spelled once, in the
    module that makes the table, and every other module imports its constant."""
    spelled: dict[str, list[str]] = {}
    for module in MODULES:
        for name in _night_tables(module):
            spelled.setdefault(name, []).append(module)
    assert len(spelled) >= 10
    assert {name: owners for name, owners in spelled.items() if len(owners) > 1} == {}


_MADE = re.compile(r"CREATE(?:\s+OR\s+REPLACE)?(?:\s+TEMP|\s+TEMPORARY)?\s+(?:TABLE|VIEW)"
                   r"(?:\s+IF\s+NOT\s+EXISTS)?\s+(_[a-z][a-z0-9_]*)", re.IGNORECASE)


def _strings(module: str) -> list[str]:
    tree = ast.parse(MODULES[module].read_bytes())
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def _private_tables(module: str) -> set[str]:
    """``_``-prefixed tables and views a module makes: CREATE ... in its SQL, or an Arrow
    table it registers under a literal name."""
    tree = ast.parse(MODULES[module].read_bytes())
    made = {m.group(1) for text in _strings(module) for m in _MADE.finditer(text)}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and len(node.args) > 1
                and getattr(node.func, "id", getattr(node.func, "attr", "")) == "registered"
                and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
                and node.args[1].value.startswith("_")):
            made.add(node.args[1].value)
    return made


def test_no_module_reads_another_modules_private_table() -> None:
    """A ``_``-prefixed table is its maker's scratch: no other module spells its name (a
    table another step reads gets a public constant, or comes back in the step's result)."""
    made = {module: _private_tables(module) for module in MODULES}
    assert sum(map(len, made.values())) >= 20
    texts = {module: "\n".join(_strings(module)) for module in MODULES}
    read_elsewhere = sorted(
        f"{name} (made in {owner}) in {other}"
        for owner, names in made.items() for name in names
        for other, text in texts.items()
        if other != owner and name not in made[other] and re.search(rf"\b{re.escape(name)}\b", text))
    assert read_elsewhere == []


def test_no_module_imports_another_modules_private_names() -> None:
    """``from linkage.x import _y`` reaches into a module's scratch."""
    reached = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_bytes())):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("linkage")):
                reached += [f"{module}:{node.lineno} {a.name}" for a in node.names
                            if a.name.startswith("_") and not a.name.startswith("__")]
    assert reached == []


# The stateless run and the tools that repeat its steps take every table name from what the
# steps returned (linkage.contracts.NamedTable), not from the makers' constants.
_TABLE_CONSTANT = re.compile(r"^[A-Z][A-Z0-9_]*_(?:TABLE|PAIRS)$|^SCORED_PAIRS$")


@pytest.mark.parametrize("module", ["linkage.pipeline", "linkage.resolve", "linkage.explain"])
def test_the_stateless_run_takes_table_names_from_the_steps_results(module: str) -> None:
    tree = ast.parse(MODULES[module].read_bytes())
    imported = [f"{node.module}.{a.name}" for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("linkage")
                for a in node.names if _TABLE_CONSTANT.match(a.name)]
    assert imported == []
