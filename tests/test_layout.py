"""The layers of ``bot/`` (README, docs/architecture.md), read from the source with ``ast``: every import
counts, the ones inside functions too.

    core < search < advisor < chat < slack < the entry points (cli, console, demo, wiring, wsgi)
    storage sits beside search and advisor: it imports only core, and chat and above import it

No module imports one of a higher layer, no modules import each other round a cycle, only ``bot.slack``
imports ``slack_bolt`` and ``slack_sdk`` (the Block Kit module may use ``slack_sdk.models``, a data
format), and no private name (``_x``) is used outside the module that defines it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
BOT = PROJECT / "bot"

# package -> (rank, the packages it may import); the entry points are every top-level module of bot/
LAYERS = {
    "core": (0, {"core"}),
    "search": (1, {"core", "search"}),
    "advisor": (2, {"core", "search", "advisor"}),
    "storage": (3, {"core", "storage"}),
    "chat": (4, {"core", "search", "advisor", "storage", "chat"}),
    "slack": (5, {"core", "search", "advisor", "storage", "chat", "slack"}),
    "top": (6, {"core", "search", "advisor", "storage", "chat", "slack", "top"}),
}
SLACK_PACKAGES = ("slack_bolt", "slack_sdk")
BLOCK_KIT = ("bot.chat.blocks", "slack_sdk.models")   # the one module below bot.slack that may use Slack's data format


@dataclass(frozen=True)
class Import:
    module: str          # the module that imports
    target: str          # what it imports: a module of bot (bot.core.knowledge) or another package (slack_sdk.models)
    names: tuple[str, ...]
    line: int

    def where(self) -> str:
        return f"{self.module}:{self.line}"


def module_name(path: Path, root: Path = PROJECT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str, root: Path = PROJECT) -> bool:
    path = root.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imports_of(path: Path, root: Path = PROJECT) -> list[Import]:
    """Every import in ``path`` (at any depth), each naming the module it loads: ``from bot.chat import
    blocks`` loads ``bot.chat.blocks``, ``from bot.core.knowledge import Level`` loads ``bot.core.knowledge``."""
    me = module_name(path, root)
    found: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [Import(me, alias.name, (), node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:   # relative: from the importing module's package
                package = me.split(".") if path.name == "__init__.py" else me.split(".")[:-1]
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            names = tuple(alias.name for alias in node.names)
            submodules = [f"{base}.{n}" for n in names if base.startswith("bot") and is_module(f"{base}.{n}", root)]
            found += [Import(me, sub, (), node.lineno) for sub in submodules]
            rest = tuple(n for n in names if f"{base}.{n}" not in submodules)
            if rest or not submodules:
                found.append(Import(me, base, rest, node.lineno))
    return found


def layer_of(module: str) -> str:
    parts = module.split(".")
    if module == "bot":   # the package itself: only __version__
        return "core"
    return parts[1] if len(parts) > 2 or parts[1] in LAYERS else "top"


def sources(root: Path = BOT) -> list[Path]:
    return sorted(root.rglob("*.py"))


def bot_imports(paths=None) -> list[Import]:
    return [imp for path in (paths or sources()) for imp in imports_of(path)
            if imp.target == "bot" or imp.target.startswith("bot.")]


def upward_imports(imports: list[Import]) -> list[str]:
    bad = []
    for imp in imports:
        mine, theirs = layer_of(imp.module), layer_of(imp.target)
        if theirs not in LAYERS[mine][1]:
            bad.append(f"{imp.where()} ({mine}) imports {imp.target} ({theirs})")
    return bad


def cycles(imports: list[Import]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each a cycle of imports."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if imp.target != imp.module:
            graph.setdefault(imp.module, set()).add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def slack_imports(paths=None, root: Path = PROJECT) -> list[str]:
    bad = []
    for path in paths or sources():
        for imp in imports_of(path, root):
            if not imp.target.startswith(SLACK_PACKAGES) or layer_of(imp.module) == "slack":
                continue
            if (imp.module, imp.target.split(".")[:2]) == (BLOCK_KIT[0], BLOCK_KIT[1].split(".")):
                continue
            bad.append(f"{imp.where()} imports {imp.target}")
    return bad


def private_names(paths, root: Path = PROJECT) -> list[str]:
    """``from bot.x import _y``, and ``mod._y`` where ``mod`` names a module of bot imported here."""
    bad = []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        me = module_name(path, root)
        aliases: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bot"):
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        bad.append(f"{me}:{node.lineno} imports {alias.name} from {node.module}")
                    elif is_module(f"{node.module}.{alias.name}", root):
                        aliases.add(alias.asname or alias.name)
            elif isinstance(node, ast.Import):
                aliases |= {alias.asname for alias in node.names if alias.name.startswith("bot.") and alias.asname}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                bad.append(f"{me}:{node.lineno} uses {node.value.id}.{node.attr}")
    return bad


# -- the rules, on the code ------------------------------------------------------------------------------

def test_every_package_says_what_it_owns_and_may_import():
    for package in LAYERS:
        if package == "top":
            continue
        doc = ast.get_docstring(ast.parse((BOT / package / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "May import" in doc, f"bot/{package}/__init__.py: say what it owns and may import"


def test_no_module_outside_the_layers():
    stray = [p for p in sources() if len(p.relative_to(BOT).parts) > 1 and p.relative_to(BOT).parts[0] not in LAYERS]
    assert not stray, f"modules in a package that is no layer: {stray}"


def test_no_upward_import():
    problems = upward_imports(bot_imports())
    assert not problems, "\n".join(problems)


def test_no_import_cycle():
    groups = cycles(bot_imports())
    assert not groups, "modules that import each other: " + "; ".join(" <-> ".join(g) for g in groups)


def test_only_the_slack_package_imports_slack():
    problems = slack_imports()
    assert not problems, "\n".join(problems)


def test_no_private_name_across_modules():
    problems = private_names(sources() + sorted((PROJECT / "scripts").glob("*.py")))
    assert not problems, "\n".join(problems)


# -- the checks catch what they are for ------------------------------------------------------------------

def plant(root: Path, module: str, source: str) -> Path:
    path = root.joinpath(*module.split(".")).with_suffix(".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    return path


def test_the_checks_see_a_function_local_upward_import(tmp_path):
    path = plant(tmp_path, "bot.core.knowledge", "def f():\n    from bot.chat.handlers import question\n")
    assert upward_imports(imports_of(path, tmp_path)) == [
        "bot.core.knowledge:2 (core) imports bot.chat.handlers (chat)"]


def test_the_checks_see_storage_reaching_for_search(tmp_path):
    path = plant(tmp_path, "bot.storage.store", "from bot.search.query import understand\n")
    assert upward_imports(imports_of(path, tmp_path)) == [
        "bot.storage.store:1 (storage) imports bot.search.query (search)"]


def test_the_checks_see_a_cycle_slack_and_a_private_name(tmp_path):
    a = plant(tmp_path, "bot.core.a", "from bot.core.b import thing\n")
    b = plant(tmp_path, "bot.core.b", "def f():\n    from bot.core.a import _hidden\n")
    c = plant(tmp_path, "bot.chat.handlers", "from slack_sdk import WebClient\n")
    d = plant(tmp_path, "bot.chat.blocks", "from slack_sdk.models.blocks import SectionBlock\n")
    e = plant(tmp_path, "bot.chat.prompts", "from bot.chat import blocks as B\nB._private\n")
    assert cycles(imports_of(a, tmp_path) + imports_of(b, tmp_path)) == [["bot.core.a", "bot.core.b"]]
    assert slack_imports([c, d], tmp_path) == ["bot.chat.handlers:1 imports slack_sdk"]
    assert private_names([b, e], tmp_path) == ["bot.core.b:2 imports _hidden from bot.core.a",
                                               "bot.chat.prompts:2 uses B._private"]
