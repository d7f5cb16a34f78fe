"""The shape of the house: no import cycle among project modules, and imports flow one way.

Every `import` counts, also one inside a function: such an import only hides a cycle.
"""

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("accounts", "config", "subsidy")


@cache
def project_modules() -> dict[str, Path]:
    """Dotted name -> file of every Python module of the project's packages."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _is_package(name: str) -> bool:
    return project_modules()[name].name == "__init__.py"


def _owner(name: str) -> str | None:
    """The project module a dotted name lives in (its longest importable prefix), if any."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in project_modules():
            return candidate
        parts.pop()
    return None


def imported_names(module: str) -> set[str]:
    """Every dotted name `module` imports, anywhere in it, relative imports resolved.

    `from pkg import name` names the submodule pkg.name when there is one, else pkg.
    """
    tree = ast.parse(project_modules()[module].read_text(encoding="utf-8"))
    package = module if _is_package(module) else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                names.add(submodule if submodule in project_modules() else source)
    return names


@cache
def import_graph() -> dict[str, frozenset[str]]:
    """Project module -> the project modules it imports."""
    graph = {}
    for module in project_modules():
        targets = {_owner(name) for name in imported_names(module)}
        graph[module] = frozenset(t for t in targets if t is not None and t != module)
    return graph


def import_cycles(graph: dict[str, frozenset[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cycles: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


def importers_of(targets: set[str]) -> dict[str, set[str]]:
    """Module -> which of `targets` it imports."""
    return {
        module: hits
        for module, imports in import_graph().items()
        if (hits := set(imports) & targets)
    }


# --- The checker itself ----------------------------------------------------------------------


def test_the_checker_finds_a_cycle_through_an_import_inside_a_function():
    graph = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset()}
    assert import_cycles(graph) == [["a", "b", "c"]]
    assert import_cycles({"a": frozenset({"b"}), "b": frozenset()}) == []


def test_the_checker_reads_every_kind_of_import():
    # Known edges of the project, one of each form the checker must resolve.
    graph = import_graph()
    assert "subsidy.engine.rules" in graph["subsidy.engine.computation"]  # from pkg import module
    assert "subsidy.models" in graph["subsidy.engine.stale"]  # from module import name
    assert "config.celery_app" in graph["config"]  # relative, in a package's __init__
    assert "subsidy.tasks" in graph["subsidy.apps"]  # inside a function (AppConfig.ready)


# --- The house -------------------------------------------------------------------------------


def test_no_import_cycle_among_project_modules():
    assert import_cycles(import_graph()) == []


def test_the_rules_import_no_orm_and_no_model():
    imported = imported_names("subsidy.engine.rules")
    assert not {name for name in imported if name.startswith("django.db")}
    assert not {name for name in imported if (_owner(name) or "").endswith("models")}


API = {name for name in project_modules() if name.startswith("subsidy.api.")}
HTTP_AND_JOBS = API | {"subsidy.filters", "subsidy.tasks"}


def test_only_the_url_map_and_the_http_layer_import_the_http_layer_and_the_tasks():
    # The tasks are queued by name (subsidy.jobs); the APIs are wired only by the URL map.
    allowed = {"subsidy.urls", "subsidy.apps"} | API
    # On purpose: the officers' workbench filters with the API's own filter set
    # (filters.ApplicationFilter), so the page and GET /applications/ never disagree.
    allowed |= {"subsidy.web.office"}
    # Likewise the exports: their rows are the list's, filtered by the same filter set, and
    # the streamed CSV is an API view of its own (API.md "Exports").
    allowed |= {"subsidy.exports.rows", "subsidy.exports.stream"}
    assert {
        module: hits
        for module, hits in importers_of(HTTP_AND_JOBS).items()
        if module.startswith("subsidy") and module not in allowed
    } == {}


def test_services_never_import_the_http_layer():
    http = {
        name
        for name in project_modules()
        if name.rpartition(".")[2] in {"apis", "serializers", "views", "forms", "filters"}
        or name.startswith("subsidy.api.")
    }
    services = {
        name
        for name in project_modules()
        if name in {"accounts.services", "subsidy.services", "subsidy.workflow.actions"}
        or name.startswith("subsidy.services.")
    }
    assert {module: hits for module, hits in importers_of(http).items() if module in services} == {}
