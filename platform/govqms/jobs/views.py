from __future__ import annotations

from io import BytesIO

from flask import Blueprint, abort, jsonify, render_template, send_file
from flask_login import current_user, login_required

from govqms.jobs.models import JobStatus
from govqms.jobs.services import visible_job

bp = Blueprint("jobs", __name__, url_prefix="/jobs", template_folder="templates")


def _job_or_404(job_id: str):
    """The job if the user may see it (theirs, or their agency's or jurisdiction's): otherwise 404."""
    return visible_job(job_id, current_user) or abort(404)


@bp.route("/<job_id>")
@login_required
def show(job_id: str):
    return render_template("jobs/show.html", job=_job_or_404(job_id))


@bp.route("/<job_id>/status")
@login_required
def status(job_id: str):
    job = _job_or_404(job_id)
    return jsonify(id=job.id, status=job.status, progress=job.progress, message=job.message,
                   done=job.done, has_result=job.result is not None, waiting_for_queue=job.waiting_for_queue)


@bp.route("/<job_id>/download")
@login_required
def download(job_id: str):
    job = _job_or_404(job_id)
    if job.status != JobStatus.FINISHED or job.result is None:
        abort(404)
    return send_file(BytesIO(job.result), mimetype=job.result_mimetype or "application/octet-stream",
                     as_attachment=True, download_name=job.result_name or f"{job.id}.bin")
