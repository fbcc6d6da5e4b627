"""Reading one evidence file back for staff (the console's
`GET /returns/{workflow_id}/evidence/{sha256}`): only a file that return recorded.

The console checks that the signed-in staff member may see the return's merchant, reads the
return's status (the `status` query) and calls `evidence_bytes(store, status, sha256)`. Because the
lookup goes through `status.evidence`, a hash that belongs to another return, or a file in the store
that no return recorded, is never served; the bytes are checked against the recorded hash.
"""

from __future__ import annotations

import hashlib
import re

from evidence.store import EvidenceStore
from returns.status import ReturnStatus

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


async def evidence_bytes(store: EvidenceStore, status: ReturnStatus,
                         sha256: str) -> tuple[bytes, str] | None:
    """(bytes, content type) of the file `status` recorded with this sha256; None when the return
    recorded no such file, or the stored bytes are missing or no longer match the hash."""
    if not _SHA256.fullmatch(sha256 or ""):
        return None
    found = next((f for f in status.evidence if f.sha256 == sha256), None)
    if found is None:
        return None
    try:
        data = await store.get(found.key)
    except Exception:  # noqa: BLE001 - missing in the folder or the bucket: nothing to serve
        return None
    if hashlib.sha256(data).hexdigest() != found.sha256:
        return None
    return data, found.content_type
