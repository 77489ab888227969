"""Places, region rule data and its validation."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest
import yaml

from bot.deadline.place_names import find_region_in_text, lookup_region
from bot.deadline.region_data import (
    REGIONS_DIR,
    all_regions,
    load_region_data,
    validate_region_data,
)
from bot.deadline.regions import channels_for, local_help, rule_for
from bot.deadline.schemes import SCHEMES
from bot.sources import is_official_host

DIVISIONS = list(csv.DictReader((REGIONS_DIR / "divisions.csv").open(encoding="utf-8")))
PROVINCES = [row for row in DIVISIONS if row["level"] == "province"]
PREFECTURES = [row for row in DIVISIONS if row["level"] == "prefecture"]


def test_division_counts():
    assert len(PROVINCES) == 34  # 23 provinces (incl. 台湾), 5 autonomous regions, 4+2
    mainland = [r for r in PREFECTURES if r["province_short"] != "台湾"]
    assert len(mainland) >= 333
    assert len({r["adcode"] for r in DIVISIONS}) == len(DIVISIONS)


@pytest.mark.parametrize("row", PROVINCES, ids=[r["short"] for r in PROVINCES])
def test_every_province_resolves_by_full_and_short_name(row):
    for name in (row["name"], row["short"]):
        region = lookup_region(name)
        assert region is not None and region.is_province
        assert region.name == row["name"]


def test_every_prefecture_resolves_to_its_province():
    wrong = []
    for row in PREFECTURES:
        region = lookup_region(row["name"])
        if region is None or region.province != row["province"]:
            wrong.append(row["name"])
    assert wrong == []


@pytest.mark.parametrize(
    ("name", "province"),
    [
        ("锦州", "辽宁省"), ("锦州市", "辽宁省"), ("葫芦岛", "辽宁省"),
        ("恩施", "湖北省"), ("恩施州", "湖北省"), ("恩施土家族苗族自治州", "湖北省"),
        ("湘西", "湖南省"), ("延边朝鲜族自治州", "吉林省"), ("黔东南", "贵州省"),
        ("巴音郭楞", "新疆维吾尔自治区"), ("克孜勒苏柯尔克孜自治州", "新疆维吾尔自治区"),
        ("海西", "青海省"), ("玉树藏族自治州", "青海省"), ("阿坝", "四川省"),
        ("西双版纳", "云南省"), ("大理白族自治州", "云南省"),
        ("大兴安岭地区", "黑龙江省"), ("大兴安岭", "黑龙江省"), ("阿里地区", "西藏自治区"),
        ("锡林郭勒盟", "内蒙古自治区"), ("阿拉善", "内蒙古自治区"), ("呼和浩特", "内蒙古自治区"),
        ("仙桃", "湖北省"), ("神农架林区", "湖北省"), ("济源", "河南省"),
        ("石河子市", "新疆维吾尔自治区"),
        ("三沙", "海南省"), ("儋州市", "海南省"), ("海口", "海南省"), ("雄安新区", "河北省"),
        ("哈尔滨", "黑龙江省"), ("淮南", "安徽省"), ("武汉市", "湖北省"), ("广州", "广东省"),
        ("六盘水", "贵州省"), ("辽宁省锦州市", "辽宁省"), (" 锦州 ", "辽宁省"),
        ("锦州市古塔区", "辽宁省"),
    ],
)
def test_city_names_resolve(name, province):
    region = lookup_region(name)
    assert region is not None and region.province == province


@pytest.mark.parametrize(
    ("name", "full"),
    [
        ("广东省", "广东省"), ("广东", "广东省"), ("内蒙古自治区", "内蒙古自治区"),
        ("内蒙古", "内蒙古自治区"), ("内蒙", "内蒙古自治区"), ("新疆", "新疆维吾尔自治区"),
        ("广西", "广西壮族自治区"), ("宁夏", "宁夏回族自治区"), ("西藏", "西藏自治区"),
        ("香港", "香港特别行政区"), ("北京", "北京市"), ("上海市", "上海市"), ("重庆", "重庆市"),
        ("吉林", "吉林省"), ("海南", "海南省"),  # shared short names mean the province
    ],
)
def test_province_names(name, full):
    region = lookup_region(name)
    assert region is not None and region.is_province and region.name == full


def test_city_region_ref_uses_short_names():
    assert lookup_region("锦州市").ref().to_json() == {"city": "锦州", "province": "辽宁"}
    assert lookup_region("广东").ref().to_json() == {"city": None, "province": "广东"}


@pytest.mark.parametrize("name", ["火星", "", "   ", "abc", "东京", None])
def test_unknown_places(name):
    assert lookup_region(name) is None


def test_unknown_place_falls_back_to_national_with_a_note():
    applied = rule_for("enterprise", "火星")
    assert applied.level == "national" and applied.label == "全国通用规则"
    assert applied.region is None
    assert any("火星" in note and "全国通用规则" in note for note in applied.notes)


def test_known_place_without_rule_says_so():
    applied = rule_for("enterprise", "锦州")
    assert applied.level == "national"
    assert applied.region.city == "锦州"
    assert any("锦州市" in note and "全国通用规则" in note for note in applied.notes)


def test_rule_for_rejects_unknown_scheme():
    with pytest.raises(KeyError):
        rule_for("pension", "锦州")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我是锦州的遗属，今年5月2号认证的", "锦州市"),
        ("辽宁锦州", "锦州市"),
        ("我在广东佛山", "佛山市"),
        ("内蒙古呼和浩特的", "呼和浩特市"),
        ("新疆维吾尔自治区乌鲁木齐市", "乌鲁木齐市"),
        ("住在恩施州", "恩施土家族苗族自治州"),
        ("北京朝阳区的退休人员", "朝阳区"),  # 朝阳区 is 北京's district; 朝阳 alone is 朝阳市
        ("朝阳的退休人员", "朝阳市"),
        ("我在海淀区", "海淀区"),
        ("重庆渝北的", "渝北区"),  # missing from the source table, added by the build script
        ("浦东养老认证", "浦东新区"),
        ("我在北京通州住", "通州区"),  # 通州 is an everyday-word name: its province says place
        ("我住在安康", "安康市"),
        ("我是中山的", "中山市"),
        ("广东的企业退休", "广东省"),
        ("大兴安岭", "大兴安岭地区"),
    ],
)
def test_find_region_in_text(text, expected):
    region = find_region_in_text(text)
    assert region is not None and region.name == expected


@pytest.mark.parametrize("text", ["长寿老人认证怎么弄", "和平年代", "金山银山", "河西走廊"])
def test_a_district_name_that_is_an_everyday_word_needs_a_place_word(text):
    assert find_region_in_text(text) is None


def test_a_municipalitys_district_gets_the_municipalitys_rules():
    applied = rule_for("enterprise", "海淀")
    assert (applied.region.city, applied.region.province) == ("海淀", "北京")


@pytest.mark.parametrize(
    "text",
    ["祝您安康", "中山路上的社保局", "早上吃了三明治", "东方红", "企业退休，去年3月10号认证的", "",
     "大理石", "普洱茶"],
)
def test_find_region_in_text_ignores_ordinary_words(text):
    assert find_region_in_text(text) is None


FACTS_PROVINCES = ["北京", "上海", "广东", "浙江", "湖北", "辽宁", "安徽", "山东", "四川", "陕西",
                   "黑龙江", "湖南", "青海", "福建", "江苏", "重庆", "甘肃", "江西", "山西", "海南",
                   "贵州"]


@pytest.mark.parametrize("province", FACTS_PROVINCES)
def test_provinces_from_facts_have_their_own_channels(province):
    region = lookup_region(province)
    own = [c for c in channels_for(province) if c.region == region.name]
    assert own, province
    for channel in own:
        assert channel.how and channel.sources


def test_channels_order_city_province_national():
    owners = [c.region for c in channels_for("武汉")]
    assert owners[0] == "武汉市"
    assert owners.index("湖北省") > owners.index("武汉市")
    assert owners.index("全国") > owners.index("湖北省")
    assert owners[-1] == "全国"


def test_unknown_place_gets_national_channels():
    channels = channels_for("火星")
    assert channels and {c.region for c in channels} == {"全国"}
    assert channels_for(None) == channels


def test_named_apps_are_where_facts_put_them():
    names = " ".join(c.name for c in channels_for("北京"))
    assert "京通" in names
    assert any("粤省事" in c.name for c in channels_for("广州"))
    assert any("龙易办" in c.name for c in channels_for("哈尔滨"))
    assert not any("辽事通" in c.name for c in channels_for("锦州"))  # no evidence it certifies
    qinghai = [c for c in channels_for("玉树") if "青海人社通" in c.name]
    assert qinghai and not qinghai[0].verified  # weakly verified in facts.md


# --- every province-level division has a region file ---------------------------------------------

NATIONAL_CHANNEL_WORDS = ("si.12333.gov.cn", "掌上12333", "电子社保卡", "12333")
ABROAD = {"香港": "民政事务总署", "澳门": "民政事务总署", "台湾": "公证"}


def test_every_province_has_a_region_file():
    data = load_region_data()
    with_file = {name for name in data.layers if data.by_name[name].is_province}
    assert with_file == {row["name"] for row in PROVINCES}
    assert len(list((REGIONS_DIR / "provinces").glob("*.yaml"))) == 34


@pytest.mark.parametrize("row", PROVINCES, ids=[r["short"] for r in PROVINCES])
def test_every_province_resolves_and_gets_channels_or_a_note(row):
    for name in (row["name"], row["short"]):
        help_ = local_help(name)
        assert help_.region is not None and help_.region.name == row["name"], name
        assert help_.channels or help_.notes, name
        for scheme in SCHEMES:
            applied = rule_for(scheme, name)
            assert applied.region.province == row["short"] and applied.region.city is None
        assert channels_for(name)  # national channels at the least
    help_ = local_help(row["short"])
    if not help_.channels:
        # nothing local is verified: say so and point to the national channels and 12333
        text = " ".join(help_.notes)
        assert "还没有查到核实过" in text, row["short"]
        for word in NATIONAL_CHANNEL_WORDS:
            assert word in text, (row["short"], word)
    if row["short"] in ABROAD:
        text = " ".join(help_.notes)
        assert ABROAD[row["short"]] in text
        assert "中国领事" in text and "12333" in text


@pytest.mark.parametrize(
    ("city", "province"),
    [("深圳", "广东省"), ("杭州", "浙江省"), ("南京", "江苏省"), ("济南", "山东省"),
     ("青岛", "山东省"), ("沈阳", "辽宁省"), ("大连", "辽宁省"), ("厦门", "福建省"),
     ("合肥", "安徽省"), ("长春", "吉林省"), ("石家庄", "河北省")],
)
def test_big_cities_resolve_to_their_province(city, province):
    for name in (city, city + "市"):
        region = lookup_region(name)
        assert region is not None and not region.is_province and region.province == province
        assert rule_for("enterprise", name).region.province == province.rstrip("省")
        help_ = local_help(name)
        assert help_.channels or help_.notes


def test_no_app_that_facts_do_not_verify():
    names = [c.name for c in channels_for(None)]
    for path in sorted((REGIONS_DIR / "provinces").glob("*.yaml")):
        region = lookup_region(yaml.safe_load(path.read_text(encoding="utf-8"))["region"])
        names += [c.name for c in local_help(region).channels]
    # facts.md §5: the national platform is a website (and 掌上12333), not an APP of its own
    assert not [n for n in names if "公共服务平台" in n and "APP" in n.upper()]
    for word in ("辽事通", "鄂汇办", "天府通办", "秦务员", "湘易办"):
        assert not [n for n in names if word in n], word


@pytest.mark.parametrize(
    ("place", "name"),
    [("玉树", "青海人社通"), ("哈尔滨", "哈尔滨市人社"), ("达州", "达州人社"),
     ("长沙", "长沙人社")],
)
def test_channels_known_only_from_content_sites_are_unverified(place, name):
    found = [c for c in channels_for(place) if name in c.name]
    assert found and not any(c.verified for c in found)


def _sources(node, found):
    if isinstance(node, dict):
        if "official" in node:
            found.append(node)
        for value in node.values():
            _sources(value, found)
    elif isinstance(node, list):
        for value in node:
            _sources(value, found)
    return found


def test_official_only_on_government_hosts_and_issuers_recorded():
    sources = []
    for path in [REGIONS_DIR / "national.yaml", *sorted((REGIONS_DIR / "provinces").glob("*"))]:
        _sources(yaml.safe_load(path.read_text(encoding="utf-8")), sources)
    assert sources
    for src in sources:
        if src["official"]:
            assert src.get("url") and is_official_host(src["url"]), src
    issuers = {s["url"].split("/")[2]: s.get("issuer") for s in sources if s.get("url")
               and not s["url"].startswith("seed")}
    assert issuers["gqgt.com"] == "人社部"
    assert issuers["www.jsqingtong.com"] == "葫芦岛市人社局"
    assert issuers["cn.office369.com"] == "黑龙江发布"
    assert not any("seed" in str(s.get("url")) for s in sources)  # seeds no longer back a rule


def test_all_regions_loaded_once():
    assert len(all_regions()) == len(DIVISIONS)


# --- validation ---------------------------------------------------------------------------------

LINE = re.compile(r"^[\w.]+\.(?:yaml|csv): .+: .+$")


def test_shipped_region_data_is_valid():
    assert validate_region_data() == []


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    target = tmp_path / "regions"
    shutil.copytree(REGIONS_DIR, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        ("provinces/hainan.yaml", "type: rolling", "type: weekly", "规则类型“weekly”不对"),
        ("provinces/liaoning.yaml", '["07-01", "12-31"]', '["07-01", "12-32"]', "MM-DD"),
        ("provinces/liaoning.yaml", '["07-01", "12-31"]', '["12-31", "07-01"]', "结束早于开始"),
        ("provinces/liaoning.yaml", "  survivor:\n", "  widow:\n", "不认识的待遇类型“widow”"),
        ("provinces/hainan.yaml", "months: 6", "months: six", "months"),
        ("provinces/anhui.yaml", "resume_cutoff_day: 11", "resume_cutoff_day: 40",
         "resume_cutoff_day"),
        ("provinces/guangdong.yaml", "suspension: due_month", "suspension: never", "suspension"),
        ("provinces/hainan.yaml",
         "          - url: http://www.yzzsnet.com/techan/112913.html\n            official: false\n"
         "          - url: https://m.haikou.bendibao.com/news/73876.shtm\n"
         "            official: false\n",
         "          - official: false\n", "缺少来源网址"),
        ("provinces/hainan.yaml", "  海口市:", "  海口湾市:", "不在 divisions.csv 里"),
        ("provinces/hainan.yaml", "  海口市:", "  锦州市:", "不属于海南省"),
        ("provinces/hainan.yaml", "region: 海南省", "region: 火星省", "不是 divisions.csv 里"),
        ("provinces/beijing.yaml", "kind: mini_program", "kind: pigeon", "kind“pigeon”不对"),
        ("provinces/beijing.yaml", "    verified: true\n", "    verified: yes please\n",
         "verified"),
        ("provinces/jiangsu.yaml", "channels:", "channels: [", "读不了这个文件"),
        ("national.yaml", "  injury:\n", "  injuryx:\n", "injury: 缺少这种待遇的全国规则"),
        ("provinces/fujian.yaml", "official: true", "official: maybe", "official 要写"),
        ("provinces/hainan.yaml", "url: http://www.yzzsnet.com", "url: www.yzzsnet.com",
         "格式不对"),
        # official: true is for government and public-institution hosts only
        ("provinces/hainan.yaml",
         "- url: http://www.yzzsnet.com/techan/112913.html\n            official: false",
         "- url: http://www.yzzsnet.com/techan/112913.html\n            official: true",
         "www.yzzsnet.com 不是政府或公共机构的网站，不能写 official: true"),
        ("provinces/liaoning.yaml", "    official: false\n    issuer: 葫芦岛市人社局",
         "    official: true\n    issuer: 葫芦岛市人社局",
         "www.jsqingtong.com 不是政府或公共机构的网站"),
        ("national.yaml", "        official: false\n        issuer: 人社部",
         "        official: true\n        issuer: 人社部", "gqgt.com 不是政府或公共机构的网站"),
        ("provinces/jiangsu.yaml", "official: false\n", "official: true\n",
         "没有网址的来源不能写 official: true"),
        ("provinces/liaoning.yaml", "issuer: 葫芦岛市人社局", 'issuer: ""', "issuer 要写"),
        ("provinces/liaoning.yaml", "issuer: 葫芦岛市人社局", "isuser: 葫芦岛市人社局",
         "不认识的字段“isuser”"),
        ("provinces/guangdong.yaml", "      who: 本市户籍", "      whom: 本市户籍", "缺少 who"),
        ("provinces/neimenggu.yaml", "first_certification: benefit_month",
         "first_certification: someday", "first_certification“someday”不对"),
        ("provinces/liaoning.yaml", "        important: 锦州",
         "        important: []\n        x: 锦州", "important 要写一句话"),
    ],
)
def test_validation_catches_broken_files(data_copy, file, old, new, expected):
    assert validate_region_data(data_copy) == []
    _edit(data_copy / file, old, new)
    problems = validate_region_data(data_copy)
    assert any(expected in p for p in problems), problems
    for problem in problems:
        assert LINE.match(problem), problem
    name = Path(file).name
    assert any(p.startswith(f"{name}: ") for p in problems)


def test_issuer_is_loaded_and_optional():
    data = load_region_data()
    liaoning = next(c for c in data.layers["辽宁省"].channels if "辽宁人社" in c.name)
    assert liaoning.sources[0].issuer == "葫芦岛市人社局" and not liaoning.sources[0].official
    beijing = next(c for c in data.layers["北京市"].channels if "京通" in c.name)
    assert all(s.issuer is None for s in beijing.sources)


def test_validation_catches_duplicate_province(data_copy):
    shutil.copy(data_copy / "provinces" / "hainan.yaml", data_copy / "provinces" / "hainan2.yaml")
    problems = validate_region_data(data_copy)
    assert any("另一个文件里已经写过" in p for p in problems)


def test_validation_catches_missing_rule_sources(data_copy):
    _edit(data_copy / "provinces" / "anhui.yaml", "        sources:\n          - url: https://m.hn",
          "        sourcez:\n          - url: https://m.hn")
    problems = validate_region_data(data_copy)
    assert any("缺少来源" in p for p in problems)
    assert any("不认识的字段“sourcez”" in p for p in problems)


def test_divisions_file_is_what_the_generator_makes():
    # Header and a few rows as scripts/build_divisions.py writes them.
    header = (REGIONS_DIR / "divisions.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "adcode,name,short,level,province,province_short"
    rows = {r["name"]: r for r in DIVISIONS}
    assert rows["恩施土家族苗族自治州"]["short"] == "恩施"
    assert rows["六盘水市"]["short"] == "六盘水"  # 水 is an ethnic name, but not here
    assert rows["巴音郭楞蒙古自治州"]["short"] == "巴音郭楞"


def test_generator_short_names():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "build_divisions", REGIONS_DIR.parent.parent / "scripts" / "build_divisions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.short_name("海西蒙古族藏族自治州") == "海西"
    assert module.short_name("保亭黎族苗族自治县") == "保亭"
    assert module.short_name("锡林郭勒盟") == "锡林郭勒"
    assert module.short_name("香港特别行政区") == "香港"
    assert module.short_name("大兴安岭地区") == "大兴安岭"


@pytest.mark.parametrize(("place", "words"), [("香港", "民政事务总署"), ("澳门", "社会保障基金"),
                                             ("台湾", "公证机关")])
def test_hk_macao_taiwan_replies_say_how_to_certify_from_there(place, words):
    from datetime import date

    from bot.deadline.calculator import compute_deadline

    applied = rule_for("enterprise", place)
    assert applied.level == "national"  # the national cycle; only the way to certify differs
    text = compute_deadline(applied, last=date(2025, 5, 1), today=date(2025, 11, 1)).explanation
    assert words in text and "寄回" in text
