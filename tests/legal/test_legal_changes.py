"""The legal change log: deadlines and the documents a change touches."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.documents.helpers import create_document


@pytest.mark.parametrize("effective, updated, today, expected", [
    (dt.date(2025, 1, 15), dt.date(2025, 4, 15), dt.date(2025, 6, 1), "applied"),   # exactly 3 months
    (dt.date(2025, 1, 15), dt.date(2025, 4, 16), dt.date(2025, 6, 1), "late"),      # one day over
    (dt.date(2025, 1, 15), None, dt.date(2025, 4, 15), "pending"),                  # deadline day
    (dt.date(2025, 1, 15), None, dt.date(2025, 4, 16), "overdue"),
    (dt.date(2024, 11, 30), None, dt.date(2025, 2, 28), "pending"),                 # end of month
])
def test_legal_change_deadline(effective, updated, today, expected):
    from govqms.legal.models import LegalChange
    from govqms.legal.services import status

    assert status(LegalChange(effective_on=effective, qms_updated_on=updated), today) == expected


def test_legal_change_with_documents(world, login_as, system_scope):
    client = login_as("a1_secretary")
    document_id = create_document(client, world.a1, code="QT-30", title="Quy trình chứng thực")
    response = client.post(f"/t/{world.a1}/legal/new", data={
        "number": "07/2025/NĐ-CP", "title": "Nghị định sửa đổi về chứng thực", "effective_on": "01/01/2025",
        "document_ids": [str(document_id)]})
    assert response.status_code == 302
    page = client.get(f"/t/{world.a1}/legal/")
    assert "07/2025/NĐ-CP" in page.text and "QT-30" in page.text
    before = client.post(f"/t/{world.a1}/legal/new", data={
        "number": "08/2025", "title": "x", "effective_on": "01/06/2025", "qms_updated_on": "01/05/2025"})
    assert before.status_code == 400
