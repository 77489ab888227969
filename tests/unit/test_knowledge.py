"""Knowledge loading and validation: the real files pass, broken files are named and rejected."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot import KNOWLEDGE_DIR, PROJECT_DIR
from bot.qa.check import check_problems
from bot.qa.engine import build_engine
from bot.qa.knowledge import load_knowledge

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


@pytest.mark.parametrize("tag", ["overview", "death"])
def test_a_role_tag_belongs_to_one_entry(kb_dir, tag):
    two = GOOD_ENTRY.replace("tags: [sample]", f"tags: [sample, {tag}]")
    (kb_dir / "entries" / "good.yaml").write_text(two, encoding="utf-8")
    (kb_dir / "entries" / "other.yaml").write_text(
        two.replace("sample-entry", "other-entry"), encoding="utf-8")
    kb = load_knowledge(kb_dir)
    assert any(f"标签 {tag} 只能给一个条目用" in line and "sample-entry、other-entry" in line
               for line in kb.problems), kb.problems


def test_project_role_tags_are_in_place():
    kb = load_knowledge(KNOWLEDGE_DIR)
    assert [e.id for e in kb.entries.values() if "death" in e.tags] == ["report-death"]
    assert [e.id for e in kb.entries.values() if "overview" in e.tags] == ["how-to-certify"]


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


# --- official sources, issuers and the `local` line -------------------------------------------

MAINLAND_DIVISIONS = (
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江",
    "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆",
    "四川", "贵州", "云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆",
)


def _write(kb_dir: Path, text: str) -> None:
    (kb_dir / "entries" / "good.yaml").write_text(text, encoding="utf-8")


def test_kb_check_rejects_official_on_a_non_official_host(kb_dir):
    _write(kb_dir, GOOD_ENTRY.replace("https://example.gov.cn/page",
                                      "https://gqgt.com/zcpg/33667.html"))
    kb = load_knowledge(kb_dir)
    assert kb.entries == {}
    assert any("entries/good.yaml: sample-entry: " in line and "gqgt.com" in line
               and "official 只能写 false" in line for line in kb.problems), kb.problems


@pytest.mark.parametrize("url", ["https://m12333.cn/policy/dabc.html",
                                 "https://rsj.gz.gov.cn.example.com/x",
                                 "https://posts.careerengine.us/redirect/referral/id/1"])
def test_look_alike_hosts_cannot_be_official(kb_dir, url):
    _write(kb_dir, GOOD_ENTRY.replace("https://example.gov.cn/page", url))
    assert any("不是政府或公共机构网站" in line for line in load_knowledge(kb_dir).problems)


@pytest.mark.parametrize("url", ["http://www.xixianxinqu.gov.cn:83/gzfw/x.html",
                                 "https://renshichu.xaut.edu.cn/info/1096/4874.htm",
                                 "http://osaka.china-consulate.gov.cn/lsfw/"])
def test_official_hosts_stay_official(kb_dir, url):
    _write(kb_dir, GOOD_ENTRY.replace("https://example.gov.cn/page", url))
    kb = load_knowledge(kb_dir)
    assert kb.problems == []
    assert kb.entries["sample-entry"].sources[0].official is True


def test_kb_check_command_names_the_non_official_host(kb_dir):
    _write(kb_dir, GOOD_ENTRY.replace("https://example.gov.cn/page", "https://meipian.cn/3yhgqibx"))
    result = _kb_check(kb_dir)
    assert result.returncode == 1
    assert "/entries/good.yaml: sample-entry: sources 第1项 meipian.cn 不是政府或公共机构网站" \
        in result.stdout


def test_issuer_is_loaded_and_must_be_text(kb_dir):
    reprint = GOOD_ENTRY.replace(
        "      - url: https://example.gov.cn/page\n        official: true\n",
        "      - url: https://gqgt.com/zcpg/33667.html\n        official: false\n"
        "        issuer: 人社部答问（2023）\n")
    _write(kb_dir, reprint)
    kb = load_knowledge(kb_dir)
    assert kb.problems == []
    assert kb.entries["sample-entry"].sources[0].issuer == "人社部答问（2023）"
    _write(kb_dir, reprint.replace("issuer: 人社部答问（2023）", "issuer: [a, b]"))
    assert any("issuer 应是一句话" in line for line in load_knowledge(kb_dir).problems)


def test_local_line_is_loaded(kb_dir):
    _write(kb_dir, GOOD_ENTRY.replace("    tags: [sample]\n",
                                      "    tags: [sample]\n    local: 用“辽宁人社”小程序认证。\n"))
    kb = load_knowledge(kb_dir)
    assert kb.problems == []
    assert kb.entries["sample-entry"].local == "用“辽宁人社”小程序认证。"


@pytest.mark.parametrize(("local", "problem"), [
    ("长" * 81, "local 太长（81字，最多80字）"),
    ("[一, 二]", "local 应是一句话"),
    ("|\n      第一行\n      第二行", "local 只能写一行"),
], ids=["too-long", "not-text", "two-lines"])
def test_kb_check_rejects_a_bad_local_line(kb_dir, local, problem):
    _write(kb_dir, GOOD_ENTRY.replace("    tags: [sample]\n",
                                      f"    tags: [sample]\n    local: {local}\n"))
    kb = load_knowledge(kb_dir)
    assert kb.entries == {}
    assert any("entries/good.yaml: sample-entry: " in line and problem in line
               for line in kb.problems), kb.problems


def test_city_lines_are_loaded_by_the_citys_short_name(kb_dir):
    _write(kb_dir, GOOD_ENTRY.replace(
        "    tags: [sample]\n",
        "    tags: [sample]\n    regions: [湖北]\n    local: 用本省渠道。\n"
        "    local_cities:\n      武汉市: 武汉按自然年认证。\n"))
    kb = load_knowledge(kb_dir)
    assert kb.problems == []
    assert kb.entries["sample-entry"].local_cities == (("武汉", "武汉按自然年认证。"),)


@pytest.mark.parametrize(("lines", "problem"), [
    ("\n      大连: 大连的规定。", "local_cities 里的“大连”不是湖北的城市"),
    ("\n      湖北: 全省的规定。", "local_cities 里的“湖北”不是湖北的城市"),
    ("\n      武汉: " + "长" * 81, "local_cities 里武汉的那句 太长（81字，最多80字）"),
    (" 武汉按自然年认证", "local_cities 应写成“城市: 一句话”的列表"),
], ids=["other-province", "the-province-itself", "too-long", "not-a-mapping"])
def test_kb_check_rejects_a_bad_city_line(kb_dir, lines, problem):
    _write(kb_dir, GOOD_ENTRY.replace(
        "    tags: [sample]\n",
        f"    tags: [sample]\n    regions: [湖北]\n    local_cities:{lines}\n"))
    kb = load_knowledge(kb_dir)
    assert kb.entries == {}
    assert any(problem in line for line in kb.problems), kb.problems


def test_needs_words_are_loaded_and_checked(kb_dir):
    _write(kb_dir, GOOD_ENTRY.replace("    tags: [sample]\n",
                                      "    tags: [sample]\n    needs_words: [企业, 厂里]\n"))
    assert load_knowledge(kb_dir).entries["sample-entry"].needs_words == ("企业", "厂里")
    _write(kb_dir, GOOD_ENTRY.replace("    tags: [sample]\n",
                                      "    tags: [sample]\n    needs_words: 企业\n"))
    assert any("needs_words 应是词的列表" in line for line in load_knowledge(kb_dir).problems)


def _with_general_with(kb_dir: Path, words: str, other: str | None = None):
    _write(kb_dir, GOOD_ENTRY.replace("    tags: [sample]\n",
                                      f"    tags: [sample]\n    general_with: {words}\n"))
    if other is not None:
        (kb_dir / "entries" / "other.yaml").write_text(GOOD_ENTRY.replace(
            "sample-entry", "other-entry").replace(
            "    tags: [sample]\n", f"    tags: [sample]\n    general_with: {other}\n"),
            encoding="utf-8")
    (kb_dir / "synonyms.yaml").write_text("刷脸: [人脸识别, 扫脸]\n",
                                          encoding="utf-8")
    return load_knowledge(kb_dir)


@pytest.mark.parametrize(("words", "other", "problem"), [
    ("[手机, 刷脸]", None, None),
    ("手机", None, "general_with 应是词的列表"),
    ("[人脸识别]", None, "请写成标准词“刷脸”"),  # messages are read in standard words
    ("[手机]", "[网上, 手机]", "已经给了"),  # one word, one entry
])
def test_general_with_is_checked(kb_dir, words, other, problem):
    kb = _with_general_with(kb_dir, words, other)
    if problem is None:
        assert kb.problems == []
    else:
        assert any(problem in line for line in kb.problems), kb.problems


@pytest.mark.parametrize(("dictionary", "split"), [("", True), ("不会用 10000\n", False)])
def test_kb_check_reports_a_general_with_word_that_jieba_splits(kb_dir, dictionary, split):
    """不会用 is cut into 不会 + 用 unless dictionary.txt has it: it would never match."""
    _with_general_with(kb_dir, "[不会用]")
    (kb_dir / "dictionary.txt").write_text(dictionary, encoding="utf-8")
    problems, _summary = check_problems(kb_dir)
    reported = [line for line in problems if "会被分成“不会/用”" in line]
    assert bool(reported) is split, problems
    assert not reported or "加进 dictionary.txt" in reported[0]


def test_a_general_with_word_with_a_problem_is_left_unused(kb_dir):
    kb = _with_general_with(kb_dir, "[人脸识别, 手机]", "[手机]")
    assert kb.entries["sample-entry"].general_with == ("手机",)  # 人脸识别 is not a standard word
    assert kb.entries["other-entry"].general_with == ()  # 手机 was sample-entry's first


def test_local_of_exactly_80_characters_is_accepted(kb_dir):
    _write(kb_dir, GOOD_ENTRY.replace("    tags: [sample]\n",
                                      f"    tags: [sample]\n    local: {'长' * 80}\n"))
    assert load_knowledge(kb_dir).problems == []


def test_no_project_source_claims_official_on_a_non_official_host():
    from bot.sources import is_official_host

    kb = load_knowledge(KNOWLEDGE_DIR)
    wrong = [f"{e.id}: {s.url}" for e in kb.entries.values() for s in e.sources
             if s.official and not is_official_host(s.url)]
    assert wrong == []


def test_every_mainland_division_has_a_province_entry_with_a_local_line():
    kb = load_knowledge(KNOWLEDGE_DIR)
    provinces = [e for e in kb.entries.values() if e.id.startswith("prov-")]
    for name in MAINLAND_DIVISIONS:
        found = [e for e in provinces if name in e.regions]
        assert found, f"no prov-* entry lists {name} in regions"
        assert all(e.local for e in found), f"{name}: local is empty"
    assert len(provinces) == len(MAINLAND_DIVISIONS)
    assert all(e.local for e in provinces)


@pytest.mark.parametrize(("entry_id", "cities"), [
    ("prov-guangdong", ["深圳"]), ("prov-zhejiang", ["杭州"]), ("prov-jiangsu", ["南京"]),
    ("prov-shandong", ["济南", "青岛"]), ("prov-liaoning", ["沈阳", "大连"]),
    ("prov-fujian", ["厦门"]), ("prov-anhui", ["合肥"]), ("prov-jilin", ["长春"]),
    ("prov-hebei", ["石家庄"]), ("prov-henan", ["郑州"]),
])
def test_big_cities_are_listed_under_their_province(entry_id, cities):
    entry = load_knowledge(KNOWLEDGE_DIR).entries[entry_id]
    assert set(cities) <= set(entry.regions)


def test_province_phrasings_name_the_place():
    kb = load_knowledge(KNOWLEDGE_DIR)
    missing = [f"{e.id}: {p}" for e in kb.entries.values() if e.id.startswith("prov-")
               for p in e.phrasings if not any(r in p for r in e.regions)]
    assert missing == []


# --- issuer_line --------------------------------------------------------------------------------

def _entry_with(*sources):
    import datetime as dt

    from bot.qa.entries import Entry
    return Entry(id="x", question="q", phrasings=(), answer="a", tags=(), regions=(),
                 sources=tuple(sources), reviewed=dt.date(2026, 12, 1), file="f.yaml")


def test_issuer_line_names_issuers_first_then_official_hosts_in_plain_words():
    from bot.qa.entries import Source
    from bot.qa.issuers import issuer_line
    entry = _entry_with(
        Source("https://rst.fujian.gov.cn/wz/cjwt/x.htm", True),
        Source("https://gqgt.com/zcpg/33667.html", False, "人社部答问（2023）"),
        Source("https://m12333.cn/policy/dabc.html", False),
    )
    assert issuer_line(entry) == "依据：人社部答问（2023）、福建省人社厅"


def test_issuer_line_never_shows_a_bare_non_official_host():
    from bot.qa.entries import Source
    from bot.qa.issuers import issuer_line
    entry = _entry_with(Source("https://m12333.cn/policy/dabc.html", False),
                        Source("seed:001", False))
    line = issuer_line(entry)
    assert "m12333" not in line and "（官方）" not in line
    assert line.startswith("依据：")


def test_issuer_line_names_at_most_three_and_no_duplicates():
    from bot.qa.entries import Source
    from bot.qa.issuers import issuer_line
    entry = _entry_with(*(Source(f"https://a{i}.example.com/", False, f"发布者{i % 4}")
                          for i in range(8)),
                        Source("http://unknown.gov.cn/x", True))
    names = issuer_line(entry).removeprefix("依据：").split("、")
    assert names == ["发布者0", "发布者1", "发布者2"]


def test_issuer_line_of_every_project_entry_is_plain():
    from bot.qa.issuers import issuer_line
    for entry in load_knowledge(KNOWLEDGE_DIR).entries.values():
        line = issuer_line(entry)
        assert line.startswith("依据：") and line.count("、") <= 2, entry.id
        assert not any(part in line for part in (".com", ".cn", ".net", "http")), (entry.id, line)
