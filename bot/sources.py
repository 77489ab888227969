"""Which web hosts count as official sources.

Users see "官方" next to a source and act on it, so the flag is not a matter of opinion: only
hosts that belong to a government or a public institution qualify. A reprint of an official
notice on any other host is `official: false`, with an `issuer` naming whose words it carries.
"""

from __future__ import annotations

from urllib.parse import urlsplit

# Suffixes of hosts run by government bodies or public institutions. Chinese embassies and
# consulates used china-consulate.org / china-embassy.org before moving under mfa.gov.cn.
OFFICIAL_HOST_SUFFIXES = (
    ".gov.cn",
    ".edu.cn",
    ".china-consulate.org",
    ".china-embassy.org",
)


def host_of(url: str) -> str:
    """The lower-case host name of `url`, without port ("" when it has none)."""
    try:
        return (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return ""


def is_official_host(url: str) -> bool:
    """True when `url` lives on a government or public-institution host."""
    host = host_of(url)
    return any(host == suffix[1:] or host.endswith(suffix) for suffix in OFFICIAL_HOST_SUFFIXES)
