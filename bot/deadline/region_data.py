"""Reading knowledge/regions/ (divisions.csv, national.yaml, provinces/*.yaml) into one
validated, cached RegionData."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot import KNOWLEDGE_DIR
from bot.deadline.divisions import Region, clean_name, name_index, read_divisions
from bot.deadline.region_checks import (
    CITY_FIELDS,
    REGION_FIELDS,
    Channel,
    Layer,
    check_channels,
    check_layer,
    check_rule,
)
from bot.deadline.schemes import SCHEMES
from bot.errors import KnowledgeError
from bot.text.heads import longest_by_head
from bot.yaml_files import parse_yaml

REGIONS_DIR = KNOWLEDGE_DIR / "regions"  # the project's own; see use_knowledge_dir
_current_dir: Path = REGIONS_DIR


@dataclass
class RegionData:
    """All of knowledge/regions/, validated: the places, each one's layer, the national rules."""

    regions: list[Region]
    by_name: dict[str, Region]
    layers: dict[str, Layer]  # by region full name
    national_rules: dict[str, dict[str, Any]]
    national_channels: list[Channel]
    name_heads: dict[str, int]  # longest_by_head of the names: what a text scan looks up

    def province_of(self, region: Region) -> Region:
        return self.by_name[region.province]


def _divisions_path(directory: Path) -> Path:
    own = directory / "divisions.csv"
    return own if own.exists() else REGIONS_DIR / "divisions.csv"


def _region_files(directory: Path) -> list[Path]:
    return sorted((directory / "provinces").glob("*.yaml"))


def _load_yaml(path: Path, problems: list[str]) -> Any:
    try:
        return parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        problems.append(f"{path.name}: -: 读不了这个文件（{str(exc).splitlines()[0]}）")
        return None


def _collect(directory: Path) -> tuple[RegionData | None, list[str]]:
    problems: list[str] = []
    divisions_path = _divisions_path(directory)
    try:
        regions = read_divisions(divisions_path)
    except (OSError, KeyError, csv.Error) as exc:
        return None, [f"{divisions_path.name}: -: 读不了行政区划表（{exc}）"]
    by_name = name_index(regions)
    by_full = {r.name: r for r in regions}

    national = _load_yaml(directory / "national.yaml", problems) or {}
    national_rules: dict[str, dict[str, Any]] = {}
    national_channels: list[Channel] = []
    if not isinstance(national, dict):
        problems.append("national.yaml: -: 文件内容要是若干个“字段: 值”")
        national = {}
    for scheme in SCHEMES:
        raw = (national.get("rules") or {}).get(scheme)
        if raw is None:
            problems.append(f"national.yaml: rules/{scheme}: 缺少这种待遇的全国规则")
            continue
        checked = check_rule(scheme, raw, f"national.yaml: rules/{scheme}", problems,
                             complete=True)
        if checked is not None:
            national_rules[scheme] = checked
    for scheme in sorted(set(national.get("rules") or {}) - set(SCHEMES)):
        problems.append(f"national.yaml: rules/{scheme}: 不认识的待遇类型")
    national_channels = check_channels(national.get("channels"), "national.yaml: -", "全国",
                                       problems)

    layers: dict[str, Layer] = {}
    for path in _region_files(directory):
        raw = _load_yaml(path, problems)
        if raw is None:
            continue
        if not isinstance(raw, dict):
            problems.append(f"{path.name}: -: 文件内容要是若干个“字段: 值”")
            continue
        name = raw.get("region")
        province = by_name.get(clean_name(str(name))) if name else None
        if province is None or not province.is_province:
            problems.append(f"{path.name}: region: “{name}”不是 divisions.csv 里的省级行政区")
            continue
        where = f"{path.name}: {province.name}"
        if province.name in layers:
            problems.append(f"{where}: 这个省在另一个文件里已经写过了")
            continue
        layers[province.name] = check_layer(raw, where, province.name, problems, REGION_FIELDS)
        cities = raw.get("cities") or {}
        if not isinstance(cities, dict):
            problems.append(f"{where}/cities: 要按城市名分条写")
            continue
        for city_name, city_raw in cities.items():
            city_key = clean_name(str(city_name))
            city = by_full.get(city_key) or by_name.get(city_key)
            here = f"{path.name}: {province.name}/{city_name}"
            if city is None or city.is_province:
                problems.append(f"{here}: 城市“{city_name}”不在 divisions.csv 里")
                continue
            if city.province != province.name:
                problems.append(f"{here}: {city.name}属于{city.province}，不属于{province.name}")
                continue
            if city.name in layers:
                problems.append(f"{here}: 这个城市写了两遍")
                continue
            if not isinstance(city_raw, dict):
                problems.append(f"{here}: 城市下面要写 rules、channels 或 note")
                continue
            layers[city.name] = check_layer(city_raw, here, city.name, problems, CITY_FIELDS)

    data = RegionData(
        regions=regions,
        by_name=by_name,
        layers=layers,
        national_rules=national_rules,
        national_channels=national_channels,
        name_heads=longest_by_head(by_name),
    )
    return data, problems


def use_knowledge_dir(knowledge_dir: Path | str) -> None:
    """Read region data from `knowledge_dir`/regions from now on (the settings' KNOWLEDGE_DIR),
    as the knowledge base is; files read before are read again, so /reload sees edits."""
    global _current_dir
    _current_dir = Path(knowledge_dir) / "regions"
    _load.cache_clear()


def regions_dir() -> Path:
    """The region directory in use."""
    return _current_dir


def validate_region_data(directory: Path | str | None = None) -> list[str]:
    """Problems in the region files as `file: entry: problem` lines; empty when all is well."""
    return _collect(Path(directory) if directory else _current_dir)[1]


def load_region_data(directory: str | Path | None = None) -> RegionData:
    """The region data of `directory`, by default the one in use (read once, then cached)."""
    return _load(str(directory or _current_dir))


@lru_cache(maxsize=4)
def _load(directory: str) -> RegionData:
    data, problems = _collect(Path(directory))
    if problems or data is None:
        raise KnowledgeError(problems)
    return data


def all_regions() -> list[Region]:
    return list(load_region_data().regions)
