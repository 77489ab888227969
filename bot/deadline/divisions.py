"""China's provinces and prefectures (knowledge/regions/divisions.csv) and the names each one
goes by."""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from bot.deadline.rules import RegionRef


@dataclass(frozen=True)
class Region:
    adcode: str
    name: str  # 锦州市
    short: str  # 锦州
    level: str  # province / prefecture / county
    province: str  # 辽宁省
    province_short: str  # 辽宁

    @property
    def is_province(self) -> bool:
        return self.level == "province"

    @property
    def display(self) -> str:
        """锦州市（辽宁省）, or just 辽宁省 for a province-level division."""
        return self.name if self.is_province else f"{self.name}（{self.province}）"

    def ref(self) -> RegionRef:
        return RegionRef(city=None if self.is_province else self.short,
                         province=self.province_short)


def read_divisions(path: Path) -> list[Region]:
    """Every row of a divisions.csv file."""
    with path.open(encoding="utf-8") as fh:
        return [
            Region(row["adcode"], row["name"], row["short"], row["level"], row["province"],
                   row["province_short"])
            for row in csv.DictReader(fh)
        ]


def name_index(regions: list[Region]) -> dict[str, Region]:
    """Full names, short names and common forms (恩施州, 内蒙) → region."""
    index: dict[str, Region] = {}
    # Provinces first so that 吉林 and 海南 mean the provinces, not 吉林市 or 海南藏族自治州;
    # then prefectures, so that 朝阳 is 朝阳市 (辽宁) and only 朝阳区 is 北京's district.
    for region in sorted(regions, key=lambda r: (not r.is_province, r.level == "county",
                                                  r.adcode)):
        names = [region.name, region.short]
        if "自治州" in region.name:
            names.append(region.short + "州")  # 恩施州, 延边州
        if region.name == "内蒙古自治区":
            names.append("内蒙")
        for name in names:
            index.setdefault(name, region)
    return index


def clean_name(text: str) -> str:
    """`text` NFKC-folded and without whitespace: how place names are compared."""
    return "".join(unicodedata.normalize("NFKC", text or "").split())
