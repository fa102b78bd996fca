"""Checking uploaded files before anything is stored.

The type is decided by the content, not the name: a PDF starts with ``%PDF-``; DOCX and XLSX
are ZIP packages with their main part; ODT is a ZIP whose first entry says its type. The
extension must agree with the content; names with a path are refused; sizes are limited.
"""
from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from govqms.core.errors import Refused

TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "csv": "text/csv",
}


class UploadRefused(Refused):
    """The file was not stored; the message says why, in the user's language."""


@dataclass(frozen=True)
class CheckedFile:
    data: bytes
    filename: str
    extension: str
    mimetype: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


def detect_type(data: bytes) -> str | None:
    if data.startswith(b"%PDF-"):
        return "pdf"
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            names = set(package.namelist())
            if "mimetype" in names and package.read("mimetype").strip() == TYPES["odt"].encode():
                return "odt"
            if "[Content_Types].xml" in names and "word/document.xml" in names:
                return "docx"
            if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
                return "xlsx"
    except (zipfile.BadZipFile, KeyError, OSError):
        return None
    return None


def _looks_like_text(data: bytes) -> bool:
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in data


def check_upload(upload: FileStorage | None, allowed: tuple[str, ...], max_bytes: int | None = None) -> CheckedFile:
    """Read and check *upload*; raise :class:`UploadRefused` or return the checked file."""
    if upload is None or not upload.filename:
        raise UploadRefused(_l("Choose a file."))
    raw_name = upload.filename
    if "/" in raw_name or "\\" in raw_name or raw_name.startswith(".") or ".." in raw_name:
        raise UploadRefused(_l("The file name must not contain a path."))
    filename = secure_filename(raw_name) or "file"
    # secure_filename drops Vietnamese letters; keep the original name for display when it is safe
    display_name = raw_name.strip()[:200]
    extension = raw_name.rsplit(".", 1)[-1].lower() if "." in raw_name else ""
    if extension not in allowed:
        raise UploadRefused(_l("Only these file types are accepted: %(types)s.",
                               types=", ".join(t.upper() for t in allowed)))
    limit = max_bytes or current_app.config["MAX_UPLOAD_BYTES"]
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise UploadRefused(_l("The file is larger than %(mb)s MB.", mb=round(limit / 1024 / 1024, 1)))
    if not data:
        raise UploadRefused(_l("The file is empty."))
    detected = "csv" if extension == "csv" and _looks_like_text(data) else detect_type(data)
    if detected != extension:
        raise UploadRefused(_l("The content of %(name)s is not a %(type)s file.", name=display_name or filename,
                               type=extension.upper()))
    return CheckedFile(data=data, filename=display_name or filename, extension=extension,
                       mimetype=TYPES[extension], sha256=hashlib.sha256(data).hexdigest())
