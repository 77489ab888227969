"""Telegram's formatting: HTML, MarkdownV2 and Markdown parsed into text and UTF-16 entities.

Over 400 lines because the three parsers share one output type, error texts and offset rules.
"""

from __future__ import annotations

import re

from tests.botapi.records import entity_error


def utf16_len(text: str) -> int:
    """Telegram measures offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode())


class _Out:
    """Collects parsed text and tracks its UTF-16 length for entity offsets."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0

    def add(self, chunk: str) -> None:
        self.parts.append(chunk)
        self.pos += utf16_len(chunk)

    def text(self) -> str:
        return "".join(self.parts)


_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


_HTML_ENTITY = re.compile(r"&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,8});")


_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _html_char(ref: str) -> str | None:
    if ref.startswith(("#x", "#X")):
        code = int(ref[2:], 16)
    elif ref.startswith("#"):
        code = int(ref[1:])
    else:
        return _HTML_NAMED.get(ref.lower())
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else None


def _html_unescape(value: str) -> str:
    def repl(m: re.Match[str]) -> str:
        return _html_char(m.group(1)) or m.group(0)

    return _HTML_ENTITY.sub(repl, value)


def _link_entity(url: str, offset: int, length: int) -> dict | None:
    if url.startswith("tg://user?id="):
        user_id = url.removeprefix("tg://user?id=")
        if not user_id.isdigit():
            return None
        user = {"id": int(user_id), "is_bot": False, "first_name": f"User{user_id}"}
        return {"type": "text_mention", "offset": offset, "length": length, "user": user}
    if not re.match(r"^(https?|tg|ftp)://\S+$|^[\w.-]+\.[a-z]{2,}(/\S*)?$", url, re.I):
        return None  # Telegram silently drops links it cannot use
    return {"type": "text_link", "offset": offset, "length": length, "url": url}


def parse_html(text: str) -> tuple[str, list[dict]]:
    """Telegram's parse_mode=HTML: the visible text and its entities, or ApiError(400).

    Follows TDLib's rules: only the documented tags, the four named entities plus numeric
    ones, every '<' must start a tag, tags must nest.
    """
    out = _Out()
    stack: list[tuple[str, int, dict[str, str]]] = []
    entities: list[dict] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "&":
            m = _HTML_ENTITY.match(text, i)
            decoded = _html_char(m.group(1)) if m else None
            if m and decoded is not None:
                out.add(decoded)
                i = m.end()
            else:
                out.add("&")
                i += 1
            continue
        if ch != "<":
            j = i
            while j < n and text[j] not in "<&":
                j += 1
            out.add(text[i:j])
            i = j
            continue
        begin = _byte_offset(text, i)
        if i + 1 < n and text[i + 1] == "/":
            end = text.find(">", i)
            if end < 0:
                raise entity_error(f"Unclosed end tag at byte offset {begin}")
            name = text[i + 2 : end].strip().lower()
            if not stack:
                raise entity_error(f"Unexpected end tag at byte offset {begin}")
            tag, start, attrs = stack.pop()
            if name != tag:
                raise entity_error(
                    f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", '
                    f'found "</{name}>"'
                )
            i = end + 1
            _close_html_tag(tag, start, attrs, out.pos, stack, entities)
            continue
        j = i + 1
        while j < n and not text[j].isspace() and text[j] not in ">/":
            j += 1
        name = text[i + 1 : j].lower()
        if j >= n:
            raise entity_error(f"Unclosed start tag at byte offset {begin}")
        if name not in _HTML_TAGS:
            raise entity_error(f'Unsupported start tag "{name}" at byte offset {begin}')
        attrs, j = _html_attributes(text, j, begin)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise entity_error(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
        stack.append((name, out.pos, attrs))
        i = j
    if stack:
        raise entity_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return out.text(), entities


def _html_attributes(text: str, j: int, begin: int) -> tuple[dict[str, str], int]:
    attrs: dict[str, str] = {}
    n = len(text)
    while True:
        while j < n and text[j].isspace():
            j += 1
        if j >= n:
            raise entity_error(f"Unclosed start tag at byte offset {begin}")
        if text[j] == ">":
            return attrs, j + 1
        k = j
        while k < n and not text[k].isspace() and text[k] not in "=>":
            k += 1
        attr = text[j:k].lower()
        if k >= n:
            raise entity_error(f"Unclosed start tag at byte offset {begin}")
        value = ""
        if text[k] == "=":
            k += 1
            if k < n and text[k] in "\"'":
                quote = text[k]
                end = text.find(quote, k + 1)
                if end < 0:
                    raise entity_error(f"Unclosed start tag at byte offset {begin}")
                value, k = _html_unescape(text[k + 1 : end]), end + 1
            else:
                end = k
                while end < n and not text[end].isspace() and text[end] != ">":
                    end += 1
                value, k = _html_unescape(text[k:end]), end
        if attr:
            attrs[attr] = value
        j = k


def _close_html_tag(
    tag: str,
    start: int,
    attrs: dict[str, str],
    end: int,
    stack: list[tuple[str, int, dict[str, str]]],
    entities: list[dict],
) -> None:
    kind = _HTML_TAGS[tag]
    length = end - start
    if kind == "code" and stack and stack[-1][0] == "pre":
        # <pre><code class="language-x"> is one pre entity carrying the language
        language = attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1][2]["language"] = language.removeprefix("language-")
            return
    if length <= 0:
        return
    entity: dict | None = {"type": kind, "offset": start, "length": length}
    if kind == "text_link":
        entity = _link_entity(attrs.get("href", ""), start, length)
    elif kind == "pre" and attrs.get("language"):
        entity["language"] = attrs["language"]
    elif kind == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif kind == "custom_emoji":
        if not attrs.get("emoji-id", "").isdigit():
            raise entity_error("Custom emoji identifier must be a number")
        entity["custom_emoji_id"] = attrs["emoji-id"]
    if entity:
        entities.append(entity)


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")


_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


def parse_markdown_v2(text: str) -> tuple[str, list[dict]]:
    """Telegram's parse_mode=MarkdownV2, including its 'character is reserved' errors."""
    out = _Out()
    stack: list[tuple[str, int, int, str]] = []  # kind, start, byte offset, pre language
    entities: list[dict] = []
    quote: tuple[int, str] | None = None
    i, n = 0, len(text)

    def toggle(kind: str, at: int) -> None:
        if stack and stack[-1][0] == kind:
            _, start, _, _ = stack.pop()
            if out.pos > start:
                entities.append({"type": kind, "offset": start, "length": out.pos - start})
            return
        for open_kind, _, offset, _ in stack:
            if open_kind == kind:
                raise entity_error(
                    f"Can't find end of {_MDV2_NAMES[kind]} entity at byte offset {offset}"
                )
        stack.append((kind, out.pos, _byte_offset(text, at), ""))

    while i < n:
        ch = text[i]
        top = stack[-1][0] if stack else None
        if top not in ("code", "pre") and (i == 0 or text[i - 1] == "\n"):
            if text.startswith("**>", i) or ch == ">":
                if quote is None:
                    kind = "expandable_blockquote" if ch == "*" else "blockquote"
                    quote = (out.pos, kind)
                i += 3 if ch == "*" else 1
                continue
            if quote is not None:
                start, kind = quote
                if out.pos - 1 > start:
                    entities.append({"type": kind, "offset": start, "length": out.pos - 1 - start})
                quote = None
        if ch == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            out.add(text[i + 1])
            i += 2
            continue
        if top in ("code", "pre"):
            if ch != "`":
                out.add(ch)
                i += 1
                continue
            if top == "code":
                toggle("code", i)
                i += 1
                continue
            if not text.startswith("```", i):
                raise entity_error(
                    "Character '`' is reserved and must be escaped with the preceding '\\'"
                )
            kind, start, _, language = stack.pop()
            if out.pos > start:
                entity = {"type": "pre", "offset": start, "length": out.pos - start}
                if language:
                    entity["language"] = language
                entities.append(entity)
            i += 3
            continue
        if ch == "*":
            toggle("bold", i)
            i += 1
        elif ch == "_":
            if text.startswith("__", i):
                toggle("underline", i)
                i += 2
            else:
                toggle("italic", i)
                i += 1
        elif ch == "~":
            toggle("strikethrough", i)
            i += 1
        elif ch == "|" and text.startswith("||", i):
            toggle("spoiler", i)
            i += 2
        elif ch == "`":
            if text.startswith("```", i):
                newline = text.find("\n", i + 3)
                language = text[i + 3 : newline] if newline >= 0 else ""
                if newline >= 0 and re.fullmatch(r"[\w+#.-]*", language):
                    stack.append(("pre", out.pos, _byte_offset(text, i), language))
                    i = newline + 1
                else:
                    stack.append(("pre", out.pos, _byte_offset(text, i), ""))
                    i += 3
            else:
                toggle("code", i)
                i += 1
        elif ch == "[" or (ch == "!" and text.startswith("![", i)):
            kind = "custom_emoji" if ch == "!" else "text_link"
            stack.append((kind, out.pos, _byte_offset(text, i), ""))
            i += 2 if ch == "!" else 1
        elif ch == "]" and top in ("text_link", "custom_emoji"):
            kind, start, _, _ = stack.pop()
            i += 1
            url = ""
            if i < n and text[i] == "(":
                j = i + 1
                chars: list[str] = []
                while j < n and text[j] != ")":
                    if text[j] == "\\" and j + 1 < n:
                        j += 1
                    chars.append(text[j])
                    j += 1
                if j >= n:
                    raise entity_error(
                        f"Can't find end of a URL at byte offset {_byte_offset(text, i)}"
                    )
                url, i = "".join(chars), j + 1
            if out.pos > start and url:
                if kind == "custom_emoji":
                    emoji_id = url.removeprefix("tg://emoji?id=")
                    entities.append(
                        {
                            "type": "custom_emoji",
                            "offset": start,
                            "length": out.pos - start,
                            "custom_emoji_id": emoji_id,
                        }
                    )
                else:
                    link = _link_entity(url, start, out.pos - start)
                    if link:
                        entities.append(link)
        elif ch in _MDV2_RESERVED:
            raise entity_error(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
        else:
            out.add(ch)
            i += 1
    if stack:
        kind, _, offset, _ = stack[-1]
        raise entity_error(f"Can't find end of {_MDV2_NAMES[kind]} entity at byte offset {offset}")
    if quote is not None and out.pos > quote[0]:
        entities.append({"type": quote[1], "offset": quote[0], "length": out.pos - quote[0]})
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return out.text(), entities


def parse_markdown(text: str) -> tuple[str, list[dict]]:
    """Telegram's legacy parse_mode=Markdown: *bold* _italic_ `code` ```pre``` [text](url)."""
    out = _Out()
    entities: list[dict] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.add(text[i + 1])
            i += 2
            continue
        if ch not in "_*`[":
            out.add(ch)
            i += 1
            continue
        begin = _byte_offset(text, i)
        if ch == "[":
            close = text.find("](", i + 1)
            end = text.find(")", close + 2) if close >= 0 else -1
            if close < 0 or end < 0:
                raise entity_error(f"Can't find end of the entity starting at byte offset {begin}")
            start = out.pos
            out.add(text[i + 1 : close])
            link = _link_entity(text[close + 2 : end], start, out.pos - start)
            if link and out.pos > start:
                entities.append(link)
            i = end + 1
            continue
        marker = "```" if text.startswith("```", i) else ch
        end = text.find(marker, i + len(marker))
        if end < 0:
            raise entity_error(f"Can't find end of the entity starting at byte offset {begin}")
        inner = text[i + len(marker) : end]
        language = ""
        if marker == "```" and "\n" in inner and re.fullmatch(r"[\w+#.-]*", inner.split("\n")[0]):
            language, inner = inner.split("\n", 1)
        start = out.pos
        out.add(inner)
        kind = {"*": "bold", "_": "italic", "`": "code", "```": "pre"}[marker]
        if out.pos > start:
            entity = {"type": kind, "offset": start, "length": out.pos - start}
            if language:
                entity["language"] = language
            entities.append(entity)
        i = end + len(marker)
    return out.text(), entities


_AUTO_ENTITY_PATTERNS = (
    ("bot_command", re.compile(r"(?<![A-Za-z0-9_/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")),
    (
        "email",
        re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"),
    ),
    ("mention", re.compile(r"(?<![A-Za-z0-9_@.])@[A-Za-z0-9_]{3,32}")),
    ("url", re.compile(r"(?i)\bhttps?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")),
    (
        "url",
        re.compile(
            r"(?i)(?<![A-Za-z0-9.@/:-])(?:[a-z0-9-]+\.)+(?:com|cn|net|org|top|xyz|info|cc|vip|me)"
            r"(?:/[A-Za-z0-9\-._~:/?#@!$&'()*+,;=%]*)?(?![A-Za-z0-9])"
        ),
    ),
)


def auto_entities(text: str) -> list[dict]:
    """The entities Telegram detects in a user's plain text: commands, mentions, links."""
    found: list[tuple[int, int, str]] = []
    for kind, pattern in _AUTO_ENTITY_PATTERNS:
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e, _ in found):
                continue
            found.append((m.start(), m.end(), kind))
    found.sort()
    return [
        {"type": kind, "offset": utf16_len(text[:s]), "length": utf16_len(text[s:e])}
        for s, e, kind in found
    ]


def _trim(text: str, entities: list[dict]) -> tuple[str, list[dict]]:
    """Telegram strips leading and trailing whitespace and shifts entities to match."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    size = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept
