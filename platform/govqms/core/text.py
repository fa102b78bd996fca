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
# Before the letters, as ICU's Vietnamese collation (PostgreSQL's ``vi``) has them: spaces, punctuation in
# this order, other symbols, digits. So "Ban A" < "Ban Quản lý" < "Ban-B" < "Bana" in Python and in SQL.
_PUNCTUATION = ("_-\u2010\u2013\u2014,;:!?\u2026.\u00b7'\u2018\u2019\"\u201c\u201d\u00ab\u00bb()[]{}"
                "\u00a7\u00b6@*/\\&#%\u2022`^\u00b0\u00a9\u00ae+<=>|~$\u00a3\u00a5\u20ac")
_PUNCTUATION_RANK = {char: rank for rank, char in enumerate(_PUNCTUATION)}
_SPACE, _MARKS, _SYMBOLS, _DIGITS = -0x400000, -0x300000, -0x200000, -0x100000


def _rank(char: str) -> int:
    """Where a character (lowercase, no combining mark) sorts: letters of the alphabet count from 0."""
    if char in _RANK:
        return _RANK[char]
    if char.isspace():
        return _SPACE
    if char in _PUNCTUATION_RANK:
        return _MARKS + _PUNCTUATION_RANK[char]
    if char.isdecimal():
        return _DIGITS + unicodedata.decimal(char)
    if char.isalnum():
        return len(_ALPHABET) + ord(char)  # a letter of another alphabet: after ours
    return _SYMBOLS + ord(char)


@functools.lru_cache(maxsize=65536)
def sort_key(text: str | None) -> tuple:
    """Order names the Vietnamese way: by letters of the Vietnamese alphabet (spaces, punctuation and
    digits before letters), then by tones, then lowercase before capitals — the order of the ``vi``
    collation in SQL (see :func:`govqms.core.db.vi_order`). Kept for the names met (a national list sorts
    5,000 names a request)."""
    letters: list[int] = []
    tones: list[int] = []
    cases: list[int] = []
    for char in unicodedata.normalize("NFD", text or ""):
        if unicodedata.combining(char):
            if char in _LETTER_MARKS and letters:
                base = _ALPHABET[letters[-1]] if 0 <= letters[-1] < len(_ALPHABET) else ""
                composed = unicodedata.normalize("NFC", base + char)
                letters[-1] = _RANK.get(composed, letters[-1])
            elif char in _TONES and tones:
                tones[-1] = _TONES[char]
            continue
        lower = char.lower()[0]
        letters.append(_rank(lower))
        tones.append(0)
        cases.append(int(lower != char))
    return tuple(letters), tuple(tones), tuple(cases)


def search_terms(query: str | None) -> list[str]:
    return [term for term in fold(query).split(" ") if term]
