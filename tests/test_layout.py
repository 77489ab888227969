"""The package layout holds: imports point from the adapters to the core, never back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot import PROJECT_DIR

BOT = PROJECT_DIR / "bot"
# The pure core: knows nothing of Telegram, the command line or the Telegram adapter.
CORE = ("text", "qa", "deadline", "db", "reminders", "broadcasts", "ocr", "delivery", "stats",
        "privacy", "clock", "errors", "config", "sources")
# Inside the core, what each package may import (besides errors, config, clock, sources).
CORE_ALLOWED = {
    "text": set(),
    "deadline": {"text"},
    "qa": {"text", "deadline"},
    "db": {"text", "qa"},  # redaction before storing
    "ocr": {"text", "qa"},
    "delivery": set(),
    "reminders": {"text", "deadline", "db", "delivery"},
    "broadcasts": {"text", "db", "delivery"},
    "stats": {"text", "db", "reminders", "broadcasts"},
    "privacy": {"text", "db", "reminders", "broadcasts"},
}
SHARED = {"errors", "config", "clock", "sources"}


def _module(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_DIR).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _package(name: str) -> str | None:
    """bot.qa.engine -> 'qa'; bot.cli -> 'cli'; telegram.ext -> 'telegram'."""
    parts = name.split(".")
    if parts[0] == "telegram":
        return "telegram"
    if parts[0] != "bot" or len(parts) < 2:
        return None
    return parts[1]


MODULES = sorted(BOT.rglob("*.py"))


def _edges() -> list[tuple[str, str, str]]:
    edges = []
    for path in MODULES:
        source = _package(_module(path))
        for name in _imports(path):
            target = _package(name)
            if source and target and target != source:
                edges.append((_module(path), source, target))
    return edges


def test_the_core_never_imports_telegram_the_adapter_or_the_command_line() -> None:
    wrong = sorted({(module, target) for module, source, target in _edges()
                    if source in CORE and target in {"telegram", "tg", "commands", "cli"}})
    assert wrong == []


def test_the_telegram_adapter_never_imports_the_command_line() -> None:
    wrong = sorted({(module, target) for module, source, target in _edges()
                    if source == "tg" and target in {"commands", "cli"}})
    assert wrong == []


def test_core_packages_import_only_what_lies_below_them() -> None:
    wrong = sorted({(module, target) for module, source, target in _edges()
                    if source in CORE_ALLOWED and target in CORE
                    and target not in CORE_ALLOWED[source] | SHARED})
    assert wrong == []


def test_commands_do_not_import_each_other() -> None:
    wrong = []
    for path in sorted((BOT / "commands").glob("*.py")):
        own = _module(path)
        wrong += [(own, name) for name in _imports(path)
                  if name.startswith("bot.commands.") and not name.startswith(own)
                  and not name.startswith("bot.commands.args")]
    assert wrong == []


LINE_LIMIT = 420  # "about 400": a module past it is doing more than one job


@pytest.mark.parametrize("path", MODULES, ids=lambda path: _module(path))
def test_modules_stay_small_or_say_why(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if text.count("\n") > LINE_LIMIT:
        docstring = ast.get_docstring(ast.parse(text)) or ""
        assert "One module because" in docstring, (
            f"{_module(path)} has over {LINE_LIMIT} lines: split it by job, or say at its top "
            "why it is one piece (\"One module because …\")")
