"""Which column of a one-stop report holds which figure, from its header as the forms write it.

The province's form (and the one-stop systems' exports) have two header rows: a group ("Số hồ sơ
nhận giải quyết", "Kết quả giải quyết / Số hồ sơ đã giải quyết", "Số hồ sơ đang giải quyết") over its
columns ("Tổng số", "Trước hạn", "Đúng hạn", "Quá hạn", "Chưa đến hạn"…). The same column name means
different figures under different groups ("Quá hạn" resolved late, or pending and overdue), so a
column is named by all its header parts, folded (no diacritics, lower case), upper first.
Breakdowns the form prints beside the totals (received online, carried over, pending not yet due or
overdue) get names of their own, so they are never taken for a total; pending is their sum only
where the form has no pending total.
"""
from __future__ import annotations

import re


def _has(text: str, *words: str) -> bool:
    return any(re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])", text) for w in words)


def match(parts: list[str]) -> str | None:
    """The field a column holds, from its folded header parts (upper first), or None."""
    if not parts:
        return None
    last = parts[-1]
    text = " / ".join(parts)
    if re.fullmatch(r"(stt|tt|so tt|so thu tu|no\.?|#)", last):
        return "number"
    if _has(text, "ma thu tuc", "ma tthc", "ma so thu tuc", "procedure code") or last in ("ma", "ma so", "code"):
        return "procedure_code"
    if _has(text, "ten thu tuc", "ten tthc", "thu tuc hanh chinh", "procedure name", "procedure"):
        return "procedure_name"
    if _has(text, "linh vuc", "field"):
        return "field"
    if re.fullmatch(r"(ky|ky bao cao|thang|thang bao cao|thoi ky|period|month)", last):
        return "period"
    pending = _has(text, "dang giai quyet", "chua giai quyet", "dang xu ly", "pending")
    resolved = not pending and _has(text, "da giai quyet", "ket qua giai quyet", "giai quyet xong", "resolved",
                                    "tra ket qua", "da xu ly")
    if _has(last, "truoc han", "som han", "early"):
        return None if pending else "resolved_early"
    if _has(last, "dung han", "dung thoi han", "trong han", "on time"):
        return None if pending else "resolved_on_time"
    if _has(last, "chua den han", "con han", "not due"):
        return "pending_not_due" if pending else None
    if _has(last, "qua han", "tre han", "late", "overdue", "cham"):
        return "pending_overdue" if pending else "resolved_late"
    if pending:
        return "pending"
    if resolved:
        return "resolved"
    if _has(text, "tiep nhan", "nhan giai quyet", "tong so ho so", "so ho so nhan", "received", "ho so nhan"):
        if _has(last, "truc tuyen", "online"):
            return "received_online"
        if _has(last, "ky truoc", "chuyen qua", "ton", "carried"):
            return "received_carried"
        if _has(last, "moi tiep nhan", "truc tiep", "buu chinh", "new"):
            return "received_new"
        return "received"
    return None
