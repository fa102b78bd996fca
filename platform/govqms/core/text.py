"""Text helpers for Vietnamese: folding for search, and the sort key."""
from __future__ import annotations

import functools
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


# The Vietnamese alphabet: ă, â after a; đ after d; ê after e; ô, ơ after o; ư after u.
_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_RANK = {letter: rank for rank, letter in enumerate(_ALPHABET)}
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}  # breve, circumflex, horn: part of the letter
_TONES = {"": 0, "\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}  # huyền hỏi ngã sắc nặng


@functools.lru_cache(maxsize=65536)
def sort_key(text: str | None) -> tuple:
    """Order names the Vietnamese way: by letters of the Vietnamese alphabet, then by tones.
    Kept for the names met (a national list sorts 5,000 names a request)."""
    letters: list[int] = []
    tones: list[int] = []
    for char in unicodedata.normalize("NFD", (text or "").lower()):
        if unicodedata.combining(char):
            if char in _LETTER_MARKS and letters:
                base = _ALPHABET[letters[-1]] if letters[-1] < len(_ALPHABET) else ""
                composed = unicodedata.normalize("NFC", base + char)
                letters[-1] = _RANK.get(composed, letters[-1])
            elif char in _TONES and tones:
                tones[-1] = _TONES[char]
            continue
        letters.append(_RANK.get(char, len(_ALPHABET) + ord(char)))
        tones.append(0)
    return tuple(letters), tuple(tones)


def search_terms(query: str | None) -> list[str]:
    return [term for term in fold(query).split(" ") if term]
