"""POST /r/<merchant>/<return>/<token>/evidence: a photo or video from the customer's page.

A multipart form that works without JavaScript (fields in this order: csrf, kind, line_id, file).
In order, before anything is stored:
1. the link (403/410), the per-return rate limit (429), the return (410 when gone);
2. the return still takes files (409 once finished, or at MAX_FILES), the announced length is not
   past the largest file we take (413, before reading the body);
3. the CSRF token, which must come before the file (403);
4. the file streams to a temporary file, its type sniffed from the first bytes and its size
   bounded by that type (400/413 at the first chunk too many: evidence/files.py);
5. a photo is re-saved without location; the bytes go to the evidence store under
   <merchant>/<return>/<sha256>; the workflow's `record_evidence` update records hash, type,
   size, kind, line and key (a file already recorded is recorded once).
Every refusal is the page again, in the customer's language, naming the field to fix.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import AsyncIterator

from aiohttp import BodyPartReader, web
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from customer_page import upload_view, words
from evidence import files
from evidence.keep import keep
from returns.actions import ActionResult
from returns.events import EvidenceKind, workflow_id_for
from returns.evidence import MAX_VIDEO_BYTES, RecordEvidence, ended
from workflows import names

FORM_SLACK = 64 * 1024  # the form's other fields and multipart boundaries
SMALL_FIELD = 1024
CHUNK = 256 * 1024
UPLOAD_DIR = Path(tempfile.gettempdir()) / "returns-uploads"


class _BadForm(Exception):
    pass


async def _small(part: BodyPartReader) -> str:
    """A short text field, read with a bound (an endless field is a bad form, not a memory hog)."""
    data = b""
    while chunk := await part.read_chunk(SMALL_FIELD):
        data += chunk
        if len(data) > SMALL_FIELD:
            raise _BadForm()
    return data.decode("utf-8", errors="replace").strip()


async def _chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await part.read_chunk(CHUNK):
        yield chunk


async def receive_upload(pages, request: web.Request) -> web.StreamResponse:
    """The handler (CustomerPages.evidence): see the module docstring."""
    from customer_page.server import CSRF_COOKIE, RATE_WINDOW  # the server imports this module

    refusal = pages._link_refusal(request)
    if refusal is not None:
        return refusal
    merchant_id, return_id, token = pages._ids(request)
    if pages._rate_limited(merchant_id, return_id):
        response = pages._problem(request, "unavailable", 429)
        response.headers["Retry-After"] = str(int(RATE_WINDOW))
        return response
    status = await pages._status(merchant_id, return_id)
    if status is None:
        return pages._problem(request, "link_expired", 410)
    w = words.WORDS[pages._language(request)]

    async def refuse(key: str, http_status: int) -> web.Response:
        return await pages._show(request, status, refusal=w[key], http_status=http_status)

    if not upload_view.can_upload(status):
        return await refuse("up_not_now" if ended(status.state, status.outcome)
                            else "up_too_many", 409)
    if (request.content_length or 0) > MAX_VIDEO_BYTES + FORM_SLACK:
        return await refuse("up_video_too_large", 413)
    if not request.content_type.startswith("multipart/form-data"):
        return await refuse("bad_form", 400)

    fields: dict[str, str] = {}
    received: files.Received | None = None
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise _BadForm()
            if part.name == "file":
                if not pages.links.csrf_ok(token, request.cookies.get(CSRF_COOKIE, ""),
                                           fields.get("csrf", "")):
                    return await refuse("bad_form", 403)
                received = await files.receive(_chunks(part), UPLOAD_DIR)
                break  # nothing after the file is read
            if part.name in ("csrf", "kind", "line_id"):
                fields[part.name] = await _small(part)
            else:
                await part.release()
    except files.Refused as err:
        code = 413 if err.problem in (files.FileProblem.photo_too_large,
                                      files.FileProblem.video_too_large) else 400
        return await refuse(f"up_{err.problem.value}", code)
    except (_BadForm, ValueError, AssertionError):
        return await refuse("bad_form", 400)

    if received is None:
        if not pages.links.csrf_ok(token, request.cookies.get(CSRF_COOKIE, ""),
                                   fields.get("csrf", "")):
            return await refuse("bad_form", 403)
        return await refuse("up_empty", 400)
    try:
        return await _store_and_record(pages, request, status, fields, received, refuse)
    finally:
        received.path.unlink(missing_ok=True)


async def _store_and_record(pages, request, status, fields, received, refuse):
    merchant_id, return_id, _ = pages._ids(request)
    try:
        kind = EvidenceKind(fields.get("kind") or EvidenceKind.photos.value)
    except ValueError:
        return await refuse("up_bad_kind", 400)
    line_id = fields.get("line_id") or None
    if line_id is not None and line_id not in {i.line_id for i in status.items}:
        return await refuse("up_bad_line", 400)

    try:
        kept = await keep(pages.evidence_store, merchant_id, return_id, received)
    except files.Refused as err:
        code = 413 if err.problem == files.FileProblem.photo_too_large else 400
        return await refuse(f"up_{err.problem.value}", code)
    sha256, size, key = kept.sha256, kept.size, kept.key
    record = RecordEvidence(sha256=sha256, content_type=received.content_type, size=size,
                            kind=kind, line_id=line_id, key=key)
    handle = pages.client.get_workflow_handle(workflow_id_for(merchant_id, return_id))
    try:
        await handle.execute_update(names.UPDATE_RECORD_EVIDENCE, record,
                                    result_type=ActionResult)
    except (WorkflowUpdateFailedError, RPCError):
        # Refused by the workflow (it finished meanwhile, or is full): the page's own checks
        # passed a moment ago, so the return moved on.
        return await refuse("up_not_now", 409)
    return pages._back(request)
