"""The issuers behind an answer's sources, named in plain words (依据：人社部、福建省人社厅)."""

from __future__ import annotations

from bot.qa.entries import Entry
from bot.sources import host_of, is_official_host

MAX_ISSUER_NAMES = 3

# Plain names of the official hosts the knowledge cites, for people who cannot judge a host name.
OFFICIAL_HOST_LABELS = {
    "rst.fujian.gov.cn": "福建省人社厅",
    "rst.fj.gov.cn": "福建省人社厅",
    "rsj.gz.gov.cn": "广州市人社局",
    "www.enping.gov.cn": "恩平市政府",
    "www.xixianxinqu.gov.cn": "西咸新区管委会",
    "zdxx.lezhi.gov.cn": "四川乐至县政务公开",
    "www.gzzy.gov.cn": "贵州紫云县政府",
    "pnzwfw.gov.cn": "广东地方政务服务网",
    "www.bjdch.gov.cn": "北京市东城区政府",
    "renshichu.xaut.edu.cn": "西安理工大学人事处",
    "osaka.china-consulate.gov.cn": "中国驻大阪总领馆",
    "chicago.china-consulate.gov.cn": "中国驻芝加哥总领馆",
    "papeete.china-consulate.org": "中国驻帕皮提领馆",
    "www.mohrss.gov.cn": "人社部",
    "si.12333.gov.cn": "国家社会保险公共服务平台",
}


def _official_label(url: str) -> str:
    host = host_of(url)
    if host in OFFICIAL_HOST_LABELS:
        return OFFICIAL_HOST_LABELS[host]
    if "china-consulate" in host or "china-embassy" in host:
        return "中国驻外使领馆"
    if host.endswith(".edu.cn"):
        return "高校官方网站"
    return "政府网站"


def issuer_line(entry: Entry) -> str:
    """Whose word an answer rests on, in plain words: "依据：人社部答问（2023）、福建省人社厅".

    Named issuers come first, then official hosts by a plain label; at most three names. A
    host that is not official is never shown by its name: users would take a look-alike host
    such as m12333.cn for the government's. With nothing but such pages, say so honestly.
    """
    names: list[str] = []
    for source in entry.sources:
        if source.issuer and source.issuer not in names:
            names.append(source.issuer)
    for source in entry.sources:
        if source.issuer or source.url.startswith("seed:") or not is_official_host(source.url):
            continue
        label = _official_label(source.url)
        if label not in names:
            names.append(label)
    if not names:
        return "依据：网上公开资料（未找到官方原文）"
    return "依据：" + "、".join(names[:MAX_ISSUER_NAMES])
