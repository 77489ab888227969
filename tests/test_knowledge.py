"""Knowledge loading and validation: the real files pass, broken files are named and rejected."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot import KNOWLEDGE_DIR, PROJECT_DIR
from bot.engine import build_engine
from bot.knowledge import load_knowledge

GOOD_ENTRY = """\
entries:
  - id: sample-entry
    question: 这是一个问题吗？
    phrasings: [问法一, 问法二, 问法三, 问法四, 问法五]
    answer: |
      1. 第一步
      2. 第二步
    tags: [sample]
    sources:
      - url: https://example.gov.cn/page
        official: true
    reviewed: 2026-11-23
"""


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    (tmp_path / "entries").mkdir()
    (tmp_path / "entries" / "good.yaml").write_text(GOOD_ENTRY, encoding="utf-8")
    return tmp_path


def test_project_knowledge_is_valid():
    kb = load_knowledge(KNOWLEDGE_DIR)
    assert kb.problems == []
    assert len(kb.entries) >= 60
    for entry in kb.entries.values():
        assert len(entry.phrasings) >= 5, entry.id
        assert entry.sources, entry.id


def test_good_file_loads(kb_dir):
    kb = load_knowledge(kb_dir)
    assert kb.problems == []
    assert list(kb.entries) == ["sample-entry"]
    assert kb.entries["sample-entry"].sources[0].official is True


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("id: sample-entry", "id: Sample Entry"), "id 只能用小写字母"),
        (("问法二, 问法三, 问法四, 问法五]", "]"), "至少要有5种"),
        (("        official: true", "        official: maybe"), "official: true 或 false"),
        (("https://example.gov.cn/page", "example.gov.cn/page"), "url 必须以"),
        (("reviewed: 2026-11-23", "reviewed: 去年"), "reviewed 应是日期"),
        (("    tags: [sample]", "    tags: [sample]\n    colour: red"), "不认识的字段 colour"),
        (("    answer: |\n      1. 第一步\n      2. 第二步\n", ""), "缺少 answer"),
        (("entries:", "entry:"), "文件应以 `entries:` 开头"),
        (("  - id: sample-entry", "  - id: sample-entry\n   bad: [indent"), "YAML 格式错误"),
    ],
)
def test_broken_entry_is_reported_with_file_and_entry(kb_dir, change, problem):
    path = kb_dir / "entries" / "good.yaml"
    path.write_text(GOOD_ENTRY.replace(*change), encoding="utf-8")
    kb = load_knowledge(kb_dir)
    assert kb.entries == {}
    assert any("entries/good.yaml: " in line and problem in line
               for line in kb.problems), kb.problems


def test_duplicate_id_across_files(kb_dir):
    (kb_dir / "entries" / "other.yaml").write_text(GOOD_ENTRY, encoding="utf-8")
    kb = load_knowledge(kb_dir)
    assert any("id 重复" in line for line in kb.problems)


def test_broken_file_is_rejected_alone(tmp_path):
    shutil.copytree(KNOWLEDGE_DIR, tmp_path / "knowledge")
    broken = tmp_path / "knowledge" / "entries" / "face.yaml"
    broken.write_text(broken.read_text(encoding="utf-8").replace("phrasings:", "phrasing:", 1),
                      encoding="utf-8")
    engine = build_engine(tmp_path / "knowledge", use_cache=False)
    assert engine.kb.problems and all("face.yaml" in p for p in engine.kb.problems)
    assert engine.kb.entries and not any(e.file.endswith("face.yaml")
                                         for e in engine.kb.entries.values())


def _kb_check(directory: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "kb", "check", "--dir", str(directory)],
                          capture_output=True, text=True, cwd=PROJECT_DIR, timeout=60)


def test_kb_check_command_passes_on_project():
    result = _kb_check(KNOWLEDGE_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "检查通过" in result.stdout


def test_kb_check_command_lists_problems(kb_dir):
    broken = GOOD_ENTRY.replace("    question: 这是一个问题吗？\n", "")
    (kb_dir / "entries" / "good.yaml").write_text(broken, encoding="utf-8")
    result = _kb_check(kb_dir)
    assert result.returncode == 1
    assert "/entries/good.yaml: sample-entry: 缺少 question" in result.stdout
    assert "Traceback" not in result.stderr
