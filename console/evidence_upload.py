"""Customer service adds a photo or video the customer sent another way (an email, a request
taken by phone: 000 §3.3, 004 §3.1) to the return, from the return's page in the console:
`POST /returns/{workflow_id}/upload` (multipart: csrf first, then kind, line_id, the file).

The same checks and storage as the customer's own upload (customer_page/uploads.py): the type
from the bytes, the size bounds while it streams, location removed from photos, the file in the
evidence store outside Temporal, and the workflow's `record_evidence` update, whose validator
decides whether the return still takes files. The audit names who added it (`received_by`).
The console's guard does not read this form (it may be 100 MB): the CSRF token is checked here,
as the first part, before the file is read.
"""

from __future__ import annotations

import hmac
from urllib.parse import quote

from aiohttp import BodyPartReader, web
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from customer_page.uploads import FORM_SLACK, UPLOAD_DIR, _chunks, _small
from evidence import files
from evidence.keep import keep
from returns.actions import ActionResult
from returns.events import EvidenceKind
from returns.evidence import MAX_VIDEO_BYTES, RecordEvidence
from workflows import names

ACTION = "upload"  # the form's name on the page (its refusal shows there)

PROBLEMS = {
    files.FileProblem.not_media: "file: not a photo (JPEG, PNG, WebP) or a video (MP4, MOV, WebM)",
    files.FileProblem.photo_too_large: "file: a photo may be at most 10 MB",
    files.FileProblem.video_too_large: "file: a video may be at most 100 MB",
}


def _problem(err: files.Refused) -> str:
    return PROBLEMS.get(err.problem, f"file: {err.problem.value.replace('_', ' ')}")


async def receive_staff_upload(console, request: web.Request, session, workflow_id: str,
                               status) -> web.Response:
    """Read, check, store and record one file; the return's page again, with the refusal in the
    upload form when something is wrong (nothing stored or recorded then)."""

    def refuse(why: str, http_status: int) -> web.Response:
        return console._show(request, workflow_id, status, refusal=(ACTION, why),
                             http_status=http_status)

    if (request.content_length or 0) > MAX_VIDEO_BYTES + FORM_SLACK:
        return refuse("file: a video may be at most 100 MB", 413)
    if not request.content_type.startswith("multipart/form-data"):
        return refuse("the form must be sent as multipart/form-data", 400)
    fields: dict[str, str] = {}
    received: files.Received | None = None
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                return refuse("the form could not be read", 400)
            if part.name == "file":
                if not hmac.compare_digest(fields.get("csrf", ""), session.csrf):
                    return refuse("this form has expired: reload the page and send it again", 403)
                received = await files.receive(_chunks(part), UPLOAD_DIR)
                break
            if part.name in ("csrf", "kind", "line_id"):
                fields[part.name] = await _small(part)
            else:
                await part.release()
    except files.Refused as err:
        too_large = err.problem in (files.FileProblem.photo_too_large,
                                    files.FileProblem.video_too_large)
        return refuse(_problem(err), 413 if too_large else 400)
    except (ValueError, AssertionError):
        return refuse("the form could not be read", 400)
    if received is None:
        if not hmac.compare_digest(fields.get("csrf", ""), session.csrf):
            return refuse("this form has expired: reload the page and send it again", 403)
        return refuse("file: choose a photo or a video", 400)
    try:
        return await _store_and_record(console, request, session, workflow_id, status, fields,
                                       received, refuse)
    finally:
        received.path.unlink(missing_ok=True)


async def _store_and_record(console, request, session, workflow_id, status, fields,
                            received: files.Received, refuse) -> web.Response:
    try:
        kind = EvidenceKind(fields.get("kind") or EvidenceKind.photos.value)
    except ValueError:
        return refuse(f"kind: one of {', '.join(k.value for k in EvidenceKind)}", 400)
    line_id = fields.get("line_id") or None
    if line_id is not None and line_id not in {i.line_id for i in status.items}:
        return refuse(f"line_id: {line_id} is not an item of this return", 400)
    if console.evidence_store is None:
        from evidence import open_store

        console.evidence_store = open_store()
    try:
        kept = await keep(console.evidence_store, status.merchant_id, status.return_id, received)
    except files.Refused as err:
        return refuse(_problem(err), 413 if err.problem == files.FileProblem.photo_too_large
                      else 400)
    sha256, size, key = kept.sha256, kept.size, kept.key
    record = RecordEvidence(sha256=sha256, content_type=received.content_type, size=size,
                            kind=kind, line_id=line_id, key=key, received_by=session.staff.name)
    handle = console.client.get_workflow_handle(workflow_id)
    try:
        await handle.execute_update(names.UPDATE_RECORD_EVIDENCE, record,
                                    result_type=ActionResult)
    except WorkflowUpdateFailedError as err:
        cause = getattr(err, "cause", None)
        return refuse(getattr(cause, "message", None) or str(err), 409)
    except RPCError as err:
        return refuse(f"Temporal did not take it: {err.message}", 409)
    console.flash[session.token_hash] = f"{kind.value.replace('_', ' ')} added for the customer"
    raise web.HTTPSeeOther(f"/returns/{quote(workflow_id, safe='')}")
