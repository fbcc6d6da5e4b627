"""`EasyPostLabels`: a carrier's prepaid return label, bought through EasyPost's official SDK.

For one return: create a return shipment (`is_return: true`; the addresses are given as for the
original delivery, merchant to customer, and EasyPost swaps them), buy the lowest rate of the
merchant's carrier (and service, when configured), download the label (PDF or PNG) into the labels
directory as `<rma_number>.pdf|.png`, and return it. `barcode_value` is the carrier's tracking
code: that is the barcode on a carrier label.

Idempotent across retries and worker crashes: a record `<rma_number>.easypost.json` beside the
label keeps the shipment id under the idempotency key, written as soon as the shipment exists and
before anything is bought. A retry reads it, retrieves that shipment and buys only if EasyPost
says it has no postage yet; a crash between the purchase and the download costs nothing more than
a second download. The shipment also carries the idempotency key as its `reference`, so it can be
found in EasyPost's dashboard. A crash between creating the shipment and writing the record leaves
an unbought shipment behind, which costs nothing. A file lock keeps two attempts of the same label
from running side by side on one host; with several worker hosts the labels directory must be
shared (as it already must be for the PDF labels).

Errors: network failures, timeouts, 5xx, 429 and a refused API key are retried by Temporal; an
address or parcel the carrier refuses (400/402/404/422), or no rate for the configured
carrier/service, is `CarrierLabelRefused`, not retried: the workflow raises it to staff.

The SDK is synchronous (requests), so each label runs in a thread.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
from contextlib import contextmanager
from pathlib import Path

import easypost
import requests
from easypost.errors import (
    ApiError,
    EasyPostError,
    FilteringError,
    ForbiddenError,
    GatewayTimeoutError,
    HttpError,
    InternalServerError,
    RateLimitError,
    ServiceUnavailableError,
    TimeoutError as EasyPostTimeout,
    UnauthorizedError,
)
from temporalio.exceptions import ApplicationError

from activities.adapters import Parcel, Secret
from activities.contracts import LabelCreated, LabelRequest
from activities.labels import LABEL_CONFLICT, _read_json, _sha256, _write_atomically
from returns.events import Address

CARRIER_LABEL_REFUSED = "CarrierLabelRefused"  # ApplicationError type: not retryable


class TransientLabelFailure(Exception):
    """EasyPost or the label download failed for now: Temporal retries."""


class EasyPostLabels:
    """Return labels of one carrier (and service), bought on one merchant's EasyPost account."""

    name = "easypost"

    def __init__(self, api_key: Secret, labels_dir: Path, *, carrier: str,
                 service: str | None = None, label_format: str = "PDF",
                 parcel: Parcel | None = None, api_base: str | None = None,
                 timeout: int = 60) -> None:
        self.labels_dir = Path(labels_dir)
        self.carrier = carrier
        self.service = service
        self.label_format = label_format.upper()
        self.parcel = parcel or Parcel(weight_oz=16)
        self.timeout = timeout
        kwargs = {"api_base": api_base} if api_base else {}
        self._client = easypost.EasyPostClient(api_key.reveal(), timeout=timeout, **kwargs)

    async def create(self, req: LabelRequest) -> LabelCreated:
        return await asyncio.to_thread(self._create, req)

    # --- one label ------------------------------------------------------------------------------
    def record_path(self, rma_number: str) -> Path:
        return self.labels_dir / f"{rma_number}.easypost.json"

    def label_path(self, rma_number: str) -> Path:
        return self.labels_dir / f"{rma_number}.{self.label_format.lower()}"

    def _create(self, req: LabelRequest) -> LabelCreated:
        self.labels_dir.mkdir(parents=True, exist_ok=True)
        record_file = self.record_path(req.rma_number)
        with _locked(self.labels_dir / f".{req.rma_number}.easypost.lock"):
            record = _read_json(record_file) or {}
            if record and record.get("return_id") != req.return_id:
                raise ApplicationError(
                    f"rma_number: {req.rma_number} already labels return "
                    f"{record.get('return_id')}, not {req.return_id}",
                    type=LABEL_CONFLICT, non_retryable=True)
            if record.get("idempotency_key") != req.idempotency_key:
                record = {}  # another step (a re-issued label): a new shipment

            label = Path(record["file"]) if record.get("file") else None
            if label and label.is_file() and _sha256(label.read_bytes()) == record.get("sha256"):
                return LabelCreated(rma_number=req.rma_number,
                                    barcode_value=record["tracking_code"], path=str(label),
                                    sha256=record["sha256"], duplicate=True)

            if record.get("shipment_id"):
                shipment = self._call("retrieving the shipment", self._client.shipment.retrieve,
                                      record["shipment_id"])
            else:
                shipment = self._call("creating the return shipment",
                                      self._client.shipment.create, **self._shipment(req))
                record = {"idempotency_key": req.idempotency_key, "rma_number": req.rma_number,
                          "return_id": req.return_id, "order_id": req.order_id,
                          "shipment_id": shipment.id}
                _write_json(record_file, record)

            if not _has_label(shipment):
                rate = self._lowest_rate(shipment)
                shipment = self._call(f"buying the {rate.carrier} {rate.service} rate",
                                      self._client.shipment.buy, shipment.id, rate=rate)
                if not _has_label(shipment):
                    raise TransientLabelFailure(f"EasyPost bought shipment {shipment.id} but "
                                                "returned no label yet")

            content = self._download(shipment)
            path = self.label_path(req.rma_number)
            _write_atomically(path, content)
            digest = _sha256(content)
            record.update(tracking_code=shipment.tracking_code, file=str(path), sha256=digest,
                          carrier=shipment.selected_rate.carrier,
                          service=shipment.selected_rate.service,
                          rate=f"{shipment.selected_rate.rate} {shipment.selected_rate.currency}")
            _write_json(record_file, record)
            return LabelCreated(rma_number=req.rma_number, barcode_value=shipment.tracking_code,
                                path=str(path), sha256=digest)

    def _shipment(self, req: LabelRequest) -> dict:
        parcel = {k: v for k, v in {
            "weight": self.parcel.weight_oz, "length": self.parcel.length_in,
            "width": self.parcel.width_in, "height": self.parcel.height_in}.items()
            if v is not None}
        return {
            # As for the original delivery (merchant -> customer); `is_return` swaps them.
            "to_address": _address(req.customer_name, req.customer_address),
            "from_address": _address(req.merchant_name, req.merchant_address),
            "parcel": parcel,
            "is_return": True,
            "reference": req.idempotency_key,
            "options": {"label_format": self.label_format, "print_custom_1": req.rma_number},
        }

    def _lowest_rate(self, shipment):
        services = [self.service] if self.service else None
        try:
            return shipment.lowest_rate(carriers=[self.carrier], services=services)
        except FilteringError:
            offered = ", ".join(sorted({f"{r.carrier} {r.service}" for r in shipment.rates})) \
                or "none"
            wanted = f"{self.carrier} {self.service}" if self.service else self.carrier
            raise ApplicationError(
                f"labels.carrier: EasyPost offers no {wanted} rate for shipment {shipment.id} "
                f"(offered: {offered})", type=CARRIER_LABEL_REFUSED, non_retryable=True) from None

    def _download(self, shipment) -> bytes:
        label = shipment.postage_label
        url = (getattr(label, "label_pdf_url", None) if self.label_format == "PDF" else None) \
            or label.label_url
        try:
            response = requests.get(url, timeout=self.timeout)
        except requests.RequestException as err:
            raise TransientLabelFailure(f"downloading the label of shipment {shipment.id} failed: "
                                        f"{type(err).__name__}") from None
        if response.status_code != 200:
            raise TransientLabelFailure(f"downloading the label of shipment {shipment.id} "
                                        f"answered HTTP {response.status_code}")
        content = response.content
        magic = b"%PDF" if self.label_format == "PDF" else b"\x89PNG"
        if not content.startswith(magic):
            raise TransientLabelFailure(f"the label of shipment {shipment.id} is not a "
                                        f"{self.label_format} file")
        return content

    def _call(self, doing: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (HttpError, EasyPostTimeout, InternalServerError, ServiceUnavailableError,
                GatewayTimeoutError, RateLimitError) as err:
            raise TransientLabelFailure(f"EasyPost unavailable while {doing}: "
                                        f"{type(err).__name__} {_status(err)}") from None
        except (UnauthorizedError, ForbiddenError) as err:
            # Our configuration: an operator fixes the key while Temporal retries.
            raise TransientLabelFailure(f"EasyPost refused the API key while {doing} "
                                        f"({_status(err)}); check labels.api_key_env") from None
        except ApiError as err:
            if err.http_status is not None and err.http_status >= 500:
                raise TransientLabelFailure(f"EasyPost failed while {doing}: "
                                            f"{_status(err)}") from None
            # The carrier refused the address or the parcel: the same request would fail again.
            # EasyPost's message names the field (never quoted with the address itself here).
            raise ApplicationError(
                f"EasyPost refused {doing}: {err.code or _status(err)}: {err.message}",
                type=CARRIER_LABEL_REFUSED, non_retryable=True) from None
        except EasyPostError as err:
            raise TransientLabelFailure(f"EasyPost failed while {doing}: "
                                        f"{type(err).__name__}") from None


def _status(err) -> str:
    status = getattr(err, "http_status", None)
    return f"HTTP {status}" if status else type(err).__name__


def _has_label(shipment) -> bool:
    label = getattr(shipment, "postage_label", None)
    return bool(label and (getattr(label, "label_url", None)
                           or getattr(label, "label_pdf_url", None)))


def _address(name: str, a: Address) -> dict:
    out = {"name": name, "street1": a.line1, "city": a.city, "zip": a.postal_code,
           "country": a.country}
    if a.line2:
        out["street2"] = a.line2
    if a.region:
        out["state"] = a.region
    return out


def _write_json(path: Path, data: dict) -> None:
    _write_atomically(path, json.dumps(data, indent=2, sort_keys=True).encode())


@contextmanager
def _locked(path: Path):
    with open(path, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


__all__ = ["CARRIER_LABEL_REFUSED", "EasyPostLabels", "TransientLabelFailure"]
