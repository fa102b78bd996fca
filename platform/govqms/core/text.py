"""Text helpers for Vietnamese: folding for search, and the sort key."""
from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def fold(text: str | None) -> str:
    """Lowercase, no diacritics, đ→d, single spaces: ``Quy trình Tiếp nhận`` → ``quy trinh tiep nhan``."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", stripped.lower()).strip()


def search_terms(query: str | None) -> list[str]:
    return [term for term in fold(query).split(" ") if term]
