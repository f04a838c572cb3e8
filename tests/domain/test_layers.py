"""Every arrow between the packages points down: the domain imports nothing of ours nor SQL
or Slack, and each part of `cmsbot` imports only the parts listed under it in `ALLOWED`.

Imports are read from the source with `ast`: `import` and `from … import`, relative ones,
and those inside functions or under `TYPE_CHECKING` (an arrow all the same).

The same reader holds the tests to their own rule: no module of the tests imports a test
module (`test_*.py`) other than itself. Tests check behaviour through public interfaces;
what several of them share lives in a support module of their package."""

from __future__ import annotations

import ast
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "projections", "cmsbot")
FORBIDDEN = {
    "domain": ("projections", "cmsbot", "sqlalchemy", "slack_bolt", "slack_sdk", "psycopg",
               "sqlite3", "apscheduler", "rapidfuzz", "yaml", "os", "time", "random"),
    "projections": ("cmsbot", "slack_bolt", "slack_sdk", "apscheduler"),
}

# The parts, each named by the modules it holds (a module, and every module under it); a
# module belongs to the part with the longest name that holds it. A new module that no
# part holds fails `test_every_module_belongs_to_a_part`: place it here.
PARTS: dict[str, tuple[str, ...]] = {
    "domain": ("domain",),
    "projections": ("projections",),
    "config": ("cmsbot.settings", "cmsbot.redaction", "cmsbot.whoami"),
    "wording": ("cmsbot.lag", "cmsbot.wording"),
    "eventstore": ("cmsbot.eventstore", "cmsbot.storefile", "cmsbot.db"),
    "history files": ("cmsbot.history", "cmsbot.history_parsing", "cmsbot.history_entries",
                      "cmsbot.history_fields", "cmsbot.history_outline", "cmsbot.history_stream"),
    "app": ("cmsbot.app", "cmsbot.sources", "cmsbot.choices"),
    "read model": ("cmsbot.readmodel",),
    "questions": ("cmsbot.questions",),
    "audit": ("cmsbot.audit",),
    "digests": ("cmsbot.digests",),
    "slack": ("cmsbot.slack",),
    # The Slack processes' entry points: they build the bot over a container.
    "slack entry": ("cmsbot.slack.app", "cmsbot.slack.server", "cmsbot.slack.answering"),
    "composition root": ("cmsbot.bootstrap", "cmsbot.collector"),
    "command line": ("cmsbot.cli", "cmsbot.commands"),
    "package": (),  # cmsbot/__init__.py alone: it imports nothing
}

_BELOW_APP = {"domain", "projections", "config", "wording", "eventstore"}
# Who may import whom, besides itself. Nothing imports the command line, and only the
# command line and the Slack entry points import the composition root.
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "projections": {"domain"},
    "config": set(),
    "wording": {"domain"},
    "eventstore": {"domain", "projections", "config"},
    "history files": {"domain", "projections"},
    "app": _BELOW_APP | {"history files"},
    "read model": _BELOW_APP,
    "questions": _BELOW_APP | {"read model"},
    "audit": _BELOW_APP | {"history files", "app", "read model", "questions"},
    "digests": _BELOW_APP | {"app", "read model", "questions", "audit"},
    "slack": _BELOW_APP | {"app", "read model", "questions", "digests"},
    "slack entry": {"slack", "composition root", "eventstore", "config"},
    "composition root": set(PARTS) - {"command line", "slack entry"},
    "command line": set(PARTS),
    "package": set(),
}


def modules(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    """Every module of `packages` under `root`, by its dotted name."""
    found = {}
    for package in packages:
        for path in (root / package).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def part_of(module: str) -> str | None:
    if module == "cmsbot":
        return "package"
    best: tuple[int, str] | None = None
    for part, names in PARTS.items():
        for name in names:
            if (module == name or module.startswith(f"{name}.")) and (
                    best is None or len(name) > best[0]):
                best = (len(name), part)
    return best[1] if best else None


def imported(module: str, path: Path, known: set[str],
             packages: tuple[str, ...] = PACKAGES) -> Iterator[tuple[int, str]]:
    """(line, module) for each module of `packages` that `module` imports, anywhere in it."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def ours(name: str) -> str | None:
        # The longest known module that `name` names or is inside of.
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            # `from a import b` imports the module a.b when there is one, else a.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                       for alias in node.names]
        else:
            continue
        for target in targets:
            if target.split(".")[0] in packages and (found := ours(target)) is not None:
                yield node.lineno, found


def offences(root: Path) -> list[str]:
    """Each import that no arrow in `ALLOWED` permits, as `file:line: a → b (why)`."""
    found = modules(root)
    known = set(found)
    wrong = []
    for module, path in sorted(found.items()):
        source = part_of(module)
        for line, target in imported(module, path, known):
            goal = part_of(target)
            if source is None or goal is None or goal == source or goal in ALLOWED[source]:
                continue
            wrong.append(f"{path.relative_to(root)}:{line}: imports {target} "
                         f"({source} → {goal})")
    return wrong


def is_test_module(module: str) -> bool:
    return module.rpartition(".")[2].startswith("test_")


def sibling_imports(root: Path) -> list[str]:
    """Each import of a test module by another module of the tests, as
    `file:line: imports module`."""
    found = modules(root, ("tests",))
    known = set(found)
    return sorted({f"{path.relative_to(root)}:{line}: imports {target}"
                   for module, path in found.items()
                   for line, target in imported(module, path, known, ("tests",))
                   if is_test_module(target) and target != module})


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_dependencies_point_inward(package: str) -> None:
    def roots(path: Path) -> set[str]:
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        return names

    offenders = {
        str(path.relative_to(ROOT)): sorted(roots(path) & set(FORBIDDEN[package]))
        for path in (ROOT / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_every_module_belongs_to_a_part() -> None:
    assert sorted(m for m in modules(ROOT) if part_of(m) is None) == []


def test_every_import_follows_an_allowed_arrow() -> None:
    assert offences(ROOT) == []


def test_the_arrows_name_only_parts_and_none_leads_to_the_command_line() -> None:
    assert set(ALLOWED) == set(PARTS)
    assert set().union(*ALLOWED.values()) <= set(PARTS)
    assert [part for part, allowed in ALLOWED.items() if "command line" in allowed] == [
        "command line"]


@pytest.mark.parametrize(("module", "planted", "offence"), [
    # An arrow back up, inside a function, as the store once imported the Slack side.
    ("cmsbot/db.py", "def _planted() -> None:\n    from cmsbot.slack import deliveries\n",
     "cmsbot/db.py:{line}: imports cmsbot.slack.deliveries (eventstore → slack)"),
    # A relative import of the composition root from an adapter.
    ("cmsbot/audit/transfer.py", "from ..bootstrap import Container\n",
     "cmsbot/audit/transfer.py:{line}: imports cmsbot.bootstrap (audit → composition root)"),
    # The domain reaching for a view.
    ("domain/dates.py", "import projections.tables\n",
     "domain/dates.py:{line}: imports projections.tables (domain → projections)"),
])
def test_a_planted_wrong_import_is_found(module: str, planted: str, offence: str,
                                         tmp_path: Path) -> None:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "data"))
    assert offences(tmp_path) == []
    path = tmp_path / module
    text = path.read_text(encoding="utf-8")
    path.write_text(f"{text}\n{planted}", encoding="utf-8")
    line = len(f"{text}\n".splitlines()) + (2 if planted.startswith("def") else 1)
    assert offences(tmp_path) == [offence.format(line=line)]


def test_no_test_module_imports_another() -> None:
    assert sibling_imports(ROOT) == []


@pytest.mark.parametrize(("module", "planted", "offence"), [
    ("tests/domain/test_overdue.py", "from .test_items import raised\n",
     "tests/domain/test_overdue.py:{line}: imports tests.domain.test_items"),
    # Inside a function, by its full name.
    ("tests/bot/test_home.py", "def _planted() -> None:\n    import tests.bot.test_paging\n",
     "tests/bot/test_home.py:{line}: imports tests.bot.test_paging"),
    # A test module imported as a name of its package, into a support module.
    ("tests/integration/support.py", "from tests.integration import test_cli\n",
     "tests/integration/support.py:{line}: imports tests.integration.test_cli"),
])
def test_a_planted_import_of_a_test_module_is_found(module: str, planted: str, offence: str,
                                                     tmp_path: Path) -> None:
    shutil.copytree(ROOT / "tests", tmp_path / "tests",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "data", "payloads"))
    assert sibling_imports(tmp_path) == []
    path = tmp_path / module
    text = path.read_text(encoding="utf-8")
    path.write_text(f"{text}\n{planted}", encoding="utf-8")
    line = len(f"{text}\n".splitlines()) + (2 if planted.startswith("def") else 1)
    assert sibling_imports(tmp_path) == [offence.format(line=line)]
