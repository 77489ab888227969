"""The rule and the channels of a place, layered national → province → city, field by field,
so a city may change only its resume cutoff and keep the rest. An unknown place is never an
error: it gets the national rule and a note saying so."""

from __future__ import annotations

from dataclasses import dataclass

from bot.deadline.divisions import Region, clean_name
from bot.deadline.place_names import lookup_region
from bot.deadline.region_checks import RULE_SETTINGS, Channel, sentence
from bot.deadline.region_data import load_region_data
from bot.deadline.rules import AppliedRule, Passive, Rule
from bot.deadline.schemes import SCHEMES

NATIONAL_LABEL = "全国通用规则"


def _region_for(place: Region | str | None) -> tuple[Region | None, str | None]:
    """(region, the unknown name if a name was given but not found)."""
    if place is None or isinstance(place, Region):
        return place, None
    if not clean_name(place):
        return None, None
    region = lookup_region(place)
    return region, (None if region else place.strip())


def rule_for(scheme: str, place: Region | str | None = None) -> AppliedRule:
    """The rule for `scheme` at `place`: city overrides, then province, then national.

    A rule of one city never reaches its province or its neighbours: only the place's own
    chain (city → its province → national) is read."""
    if scheme not in SCHEMES:
        raise KeyError(scheme)
    data = load_region_data()
    region, unknown = _region_for(place)
    chain: list[Region] = []
    if region is not None:
        if not region.is_province:
            chain.append(region)
        chain.append(data.province_of(region))

    national = data.national_rules[scheme]
    merged = dict(national)
    contributors: list[Region] = []
    rule_notes: list[str] = []
    important: list[str] = []
    own_cycle = False  # a regional rule sets the cycle itself (type)
    for layer_region in reversed(chain):  # province first, then the city on top
        layer = data.layers.get(layer_region.name)
        if layer is None:
            continue
        for key in ("all", scheme):
            override = layer.rules.get(key)
            if not override:
                continue
            settings = {k: v for k, v in override.items() if k in RULE_SETTINGS}
            if "type" in settings:  # a new type brings its own parameters
                merged = {k: v for k, v in merged.items() if k not in ("months", "windows")}
                own_cycle = True
            merged.update(settings)
            if settings and layer_region not in contributors:
                contributors.append(layer_region)
            if override.get("note"):
                rule_notes.append(override["note"])
            if override.get("important"):
                important.append(sentence(override["important"]))
            if override.get("verified") is False:
                rule_notes.append(f"{layer_region.name}的这条规定未经核实。")

    rule = Rule(
        type=merged["type"],
        months=merged.get("months"),
        windows=tuple(tuple(w) for w in merged.get("windows", ())),  # type: ignore[misc]
        suspension=merged.get("suspension", "due_month"),
        resume_cutoff_day=merged.get("resume_cutoff_day"),
        first_certification=merged.get("first_certification"),
    )
    notes: list[str] = []
    if not own_cycle:
        # The national cycle applies: its caveats (城乡居民、遗属 vary by place) come first.
        if national.get("note"):
            rule_notes.insert(0, national["note"])
        if national.get("important"):
            important.insert(0, sentence(national["important"]))
    if contributors:
        level = "province" if all(r.is_province for r in contributors) else "city"
        label = "和".join(r.name for r in reversed(contributors))
    else:
        level, label = "national", NATIONAL_LABEL
        if unknown:
            notes.append(f"没有找到“{unknown}”这个地方，按全国通用规则计算。")
        elif region is None:
            notes.append("没有说明所在地区，按全国通用规则计算；告诉我城市可以按当地规定算。")
        else:
            notes.append(f"{region.display}没有收录到特别规定，按全国通用规则计算。")
    passive: Passive | None = None
    for layer_region in chain:  # the nearest passive_for counts
        layer = data.layers.get(layer_region.name)
        if layer is not None and layer.passive is not None:
            passive = layer.passive
            break
    if passive is not None:
        notes.append(passive.text)
    notes.extend(rule_notes)
    notes.extend(important)
    for layer_region in chain:  # city notes before province notes
        layer = data.layers.get(layer_region.name)
        if layer:
            notes.extend(layer.notes)
    return AppliedRule(
        scheme=scheme,
        rule=rule,
        label=label,
        level=level,
        region=region.ref() if region else None,
        place=region.display if region else None,
        unknown_place=unknown,
        notes=tuple(notes),
        important=tuple(important),
        passive=passive,
    )


def channels_for(place: Region | str | None = None) -> list[Channel]:
    """Where to certify: the city's own channels, then the province's, then national ones."""
    return [*local_help(place).channels, *load_region_data().national_channels]


@dataclass(frozen=True)
class LocalHelp:
    """What the region files hold for one place: its own channels (city, then province) and
    its notes (city, then province). A province with no verified local channel has a note
    pointing to the national ones instead, so one of the two is never empty."""

    region: Region | None
    channels: tuple[Channel, ...]
    notes: tuple[str, ...]


def local_help(place: Region | str | None) -> LocalHelp:
    data = load_region_data()
    region, _unknown = _region_for(place)
    channels: list[Channel] = []
    notes: list[str] = []
    if region is not None:
        chain = [region] if region.is_province else [region, data.province_of(region)]
        for layer_region in chain:
            layer = data.layers.get(layer_region.name)
            if layer:
                channels.extend(layer.channels)
                notes.extend(layer.notes)
    return LocalHelp(region, tuple(channels), tuple(notes))
