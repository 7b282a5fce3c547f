"""Parse a report page: its sections, images, links and anything that would need a network."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_URL = re.compile(r"^\s*(?:https?:|ftp:)?//", re.IGNORECASE)


@dataclass
class Page:
    """What a report page holds."""

    section_ids: list[str] = field(default_factory=list)
    section_text: dict[str, str] = field(default_factory=dict)
    images: list[str] = field(default_factory=list)
    remote: list[str] = field(default_factory=list)
    scripts: int = 0
    links: int = 0


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.page = Page()
        self._section: str | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("src", "href", "srcset", "action", "poster", "data"):
            value = values.get(name)
            if value and _URL.match(value):
                self.page.remote.append(value)
        style = values.get("style") or ""
        if "url(" in style and re.search(r"url\(\s*['\"]?\s*(https?:)?//", style):
            self.page.remote.append(style)
        if tag == "script":
            self.page.scripts += 1
        if tag == "link":
            self.page.links += 1
        if tag == "img":
            self.page.images.append(values.get("src") or "")
        if tag == "section":
            if self._section is None:
                self._section = values.get("id") or ""
                self.page.section_ids.append(self._section)
                self.page.section_text[self._section] = ""
                self._depth = 0
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "section" and self._section is not None:
            self._depth -= 1
            if self._depth == 0:
                self._section = None

    def handle_data(self, data: str) -> None:
        if self._section is not None:
            self.page.section_text[self._section] += data


def parse(text: str) -> Page:
    """Parse a report page."""
    parser = _Parser()
    parser.feed(text)
    page = parser.page
    page.remote += re.findall(r"url\(\s*['\"]?\s*(?:https?:)?//[^)]*\)", text)
    page.remote += re.findall(r"@import", text)
    return page


def decode_png(src: str) -> bytes:
    """The bytes of an inline ``data:image/png;base64,...`` image (ValueError otherwise)."""
    prefix = "data:image/png;base64,"
    if not src.startswith(prefix):
        raise ValueError(f"not an inline PNG: {src[:40]!r}")
    return base64.b64decode(src[len(prefix) :], validate=True)
