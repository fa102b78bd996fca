from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from govqms.core.db import AwareDateTime, Base, utcnow


class JobStatus(StrEnum):
    QUEUED = "queued"
    STARTED = "started"
    FINISHED = "finished"
    FAILED = "failed"
    #: stopped by an operator (the back office): never run again unless an operator runs it again
    CANCELLED = "cancelled"


class Job(Base):
    """A background job as users see it: status, progress and result.

    Only the user who started a job (and operators) may see it; the task itself runs
    in the tenant scope recorded here.
    """

    __tablename__ = "job"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    task: Mapped[str] = mapped_column(String(100), nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    read_only: Mapped[bool] = mapped_column(default=True, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED, nullable=False)
    progress: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    message: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    result: Mapped[bytes | None] = mapped_column(LargeBinary)
    result_name: Mapped[str | None] = mapped_column(String(255))
    result_mimetype: Mapped[str | None] = mapped_column(String(100))
    #: what the job found, for the job page: e.g. an import's errors [{"row", "column", "message"}]
    report: Mapped[list | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime(), default=utcnow, nullable=False)
    #: when the job reached the queue (or ran inline); empty while it waits in the outbox, Redis being out
    relayed_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime(), index=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())

    @property
    def done(self) -> bool:
        return self.status in (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.CANCELLED)

    @property
    def waiting_for_queue(self) -> bool:
        """Recorded, but the queue could not take it yet: it runs once the relay delivers it."""
        return self.status == JobStatus.QUEUED and self.relayed_at is None
