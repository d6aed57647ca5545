"""The house's shape, read from the source with `ast` (nothing is imported): no import cycle
between vsr's modules, the video rooms in their order (io <- stages <- segments) with no
threads in io/, and no long parameter lists."""

import ast
from pathlib import Path

import vsr

VSR = Path(vsr.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(VSR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def vsr_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(VSR.rglob("*.py"))}


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The vsr modules that `name` imports, anywhere in the file (top level, functions,
    TYPE_CHECKING blocks). `from pkg import x` imports pkg.x when that is a module, else pkg."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            source = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                found.add(submodule if submodule in modules else source)
    return {target for target in found if target in modules and target != name}


def import_graph() -> dict[str, set[str]]:
    modules = vsr_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected group of modules (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = {stack.pop()}
            while node not in group:
                group.add(stack.pop())
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [cycle_in(graph, group) for group in groups]


def cycle_in(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """A path from the group's first module back to itself, inside the group."""
    start = min(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        node = frontier.pop(0)
        for target in sorted(graph[node] & group):
            if target == start:
                return paths[node] + [start]
            if target not in paths:
                paths[target] = paths[node] + [target]
                frontier.append(target)
    raise AssertionError(f"no cycle in {group}")


def test_the_graph_reader_sees_imports_inside_functions_and_packages():
    graph = import_graph()
    assert "vsr.video.stages.upscale" in graph["vsr"]  # vsr.__getattr__ imports it lazily
    assert "vsr.video.io.codecs" in graph["vsr.video.stages.upscale"]  # a relative import, two levels up
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_no_import_cycle_between_vsr_modules():
    found = cycles(import_graph())
    assert found == [], "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in found)


ROOMS = ("vsr.video.io", "vsr.video.stages", "vsr.video.segments")  # each may import the ones before it


def room_of(module: str) -> int | None:
    return next((i for i, room in enumerate(ROOMS) if module == room or module.startswith(room + ".")), None)


def test_the_video_rooms_import_only_the_rooms_before_them():
    backwards = [
        f"{module} -> {target}"
        for module, targets in import_graph().items()
        for target in targets
        if room_of(module) is not None and room_of(target) is not None and room_of(target) > room_of(module)
    ]
    assert backwards == []


def test_no_threads_in_the_io_room():
    io = [path for name, path in vsr_modules().items() if room_of(name) == 0]
    assert io and [path.name for path in io if "threading" in path.read_text()] == []


MAX_PARAMETERS = 8
# The exceptions (none since one frozen UpscaleJob and one Hooks object replaced the long
# lists, issue 32); the test fails when an entry no longer needs to be here.
LONG_PARAMETER_LISTS: set[str] = set()


def parameter_counts() -> dict[str, int]:
    """Every function and method in vsr/ ("module:Class.name"), with its parameters:
    positional and keyword-only, not self/cls, *args or **kwargs."""
    counts = {}

    def visit(node: ast.AST, module: str, prefix: str, in_class: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, module, f"{prefix}{child.name}.", True)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = child.args
                names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
                if in_class and names[:1] in (["self"], ["cls"]):
                    names = names[1:]
                counts[f"{module}:{prefix}{child.name}"] = len(names)
                visit(child, module, f"{prefix}{child.name}.", False)
            else:
                visit(child, module, prefix, in_class)

    for name, path in vsr_modules().items():
        visit(ast.parse(path.read_text(), str(path)), name, "", False)
    return counts


def test_the_parameter_counter_skips_self_and_star_arguments_and_counts_keyword_only():
    counts = parameter_counts()
    assert counts["vsr.video.stages.pipeline:Pipeline.channel"] == 1  # (self, capacity)
    assert counts["vsr.weights.download:ensure_downloaded"] == 2  # (entry, *, notify)
    assert counts["vsr.video.batch:run_planned"] == 5  # (jobs, template, model, hooks, on_job)


def test_no_function_takes_more_than_eight_parameters():
    long = {name for name, count in parameter_counts().items() if count > MAX_PARAMETERS}
    assert long - LONG_PARAMETER_LISTS == set(), "more than 8 parameters: make them one object"
    assert LONG_PARAMETER_LISTS - long == set(), "no longer long: take them off LONG_PARAMETER_LISTS"
