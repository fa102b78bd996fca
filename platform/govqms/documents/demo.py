"""Demo: the starter drafts of the agencies with a history, walked through the real workflow with dates
spread over the years (a second issue for some, a recent periodic review for others, the rest due)."""
from __future__ import annotations

import datetime as dt
import hashlib

from govqms.core.demo import DemoContext, acting, demo_step, pdf
from govqms.core.uploads import CheckedFile
from govqms.documents import services
from govqms.documents.models import DocumentStatus, RevisionStatus
from govqms.extensions import db


def _file(text: str, name: str) -> CheckedFile:
    data = pdf(text)
    return CheckedFile(data, name, "pdf", "application/pdf", hashlib.sha256(data).hexdigest())


@demo_step(10)
def register_history(ctx: DemoContext) -> int:
    words = ctx.section("documents")
    changed = 0
    for agency in ctx.histories():
        drafter, reviewer, approver = agency.drafter, agency.reviewer, agency.approver
        every = db.session.scalars(services.register_query(agency.tenant.id)).all()
        for index, document in enumerate(every):  # the index is stable from one run to the next
            revision = document.revisions[0]
            if (document.status != DocumentStatus.DRAFT or revision.files or revision.status != RevisionStatus.DRAFT
                    or index % 9 == 8):
                continue  # done already, or every ninth document stays a draft: work in progress
            first_issue = dt.date(2019, 3, 1) + dt.timedelta(days=37 * index)
            with acting(drafter):
                services.add_file(revision, _file(f"{document.code} {document.title}", f"{document.code}.pdf"))
                services.submit(revision, drafter.id)
            with acting(reviewer):
                services.record_review(revision, reviewer.id, words["review_comment"])
            with acting(approver):
                services.approve(revision, approver.id, first_issue)
            if index % 3 == 0:  # a second issue a few years later
                with acting(drafter):
                    second = services.new_draft(document, drafter.id)
                    services.add_file(second, _file(f"{document.code} {document.title} {words['second_issue_suffix']}",
                                                    f"{document.code}-2.pdf"))
                    services.update_draft(second, change_summary=words["second_issue_summary"], effective_on=None)
                    services.submit(second, drafter.id)
                with acting(reviewer):
                    services.record_review(second, reviewer.id, "")
                with acting(approver):
                    services.approve(second, approver.id, dt.date(2023, 1, 1) + dt.timedelta(days=29 * index))
            elif index % 3 == 1:  # reviewed recently: still suitable
                with acting(drafter):
                    services.conclude_review(document, drafter.id, outcome="no_change",
                                             on=dt.date(2026, 1, 5) + dt.timedelta(days=11 * index),
                                             note=words["periodic_review_note"])
            # the rest were never reviewed since their issue: due, or overdue, for periodic review
            changed += 1
    return changed
