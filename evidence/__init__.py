"""The customer's evidence files (photos, videos): checked from their bytes (files.py), stored
outside Temporal (store.py), read back for staff (access.py)."""

from evidence.access import evidence_bytes
from evidence.store import EvidenceStore, evidence_key, open_store

__all__ = ["EvidenceStore", "evidence_bytes", "evidence_key", "open_store"]
