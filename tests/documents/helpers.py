"""Small makers for document tests: real files, and a document created through the web views."""
from __future__ import annotations

import io
import re
import zipfile

from sqlalchemy import select

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def docx_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def upload(name: str, data: bytes):
    return {"file": (io.BytesIO(data), name)}


def create_document(client, slug: str, code: str = "QT-01", title: str = "Quy trình tiếp nhận hồ sơ",
                    kind: str = "system_procedure") -> int:
    response = client.post(f"/t/{slug}/documents/new", data={"code": code, "title": title, "kind": kind,
                                                             "review_interval_months": "12"})
    assert response.status_code == 302, response.text[:500]
    return int(re.search(r"/documents/(\d+)", response.location).group(1))


def revision_ids(document_id: int) -> list[int]:
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.documents.models import Revision
    from govqms.extensions import db

    with scoped(TenantScope.system()):
        return list(db.session.scalars(select(Revision.id).where(Revision.document_id == document_id)
                                       .order_by(Revision.number)))


def load(model, id_):
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.extensions import db

    with scoped(TenantScope.system()):
        db.session.expire_all()
        return db.session.get(model, id_)
