"""The data converter: pydantic models as JSON, with errors a person can act on.

The Temporal UI sends operator actions as one JSON object. When it does not fit the model, the SDK
would answer "Failed decoding arguments"; this converter raises an ApplicationError that names
each bad field instead (e.g. `reason: String should have at least 3 characters`). Payload
conversion errors that are ApplicationErrors reach the sender unwrapped.

`data_converter` has no encryption: it is for code that keeps payloads in memory (tests with an
in-process worker). Every process that talks to Temporal goes through `runtime.client.connect`,
which uses `encrypted_data_converter`: every payload AES-GCM encrypted (runtime/codec.py), and
failure messages and stack traces moved into an encrypted payload too (they can quote an email),
except the refusals of operator input, which the Web UI must show as they are.
"""

from __future__ import annotations

from typing import Any, Callable

from pydantic import BaseModel, ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter, PydanticPayloadConverter
from temporalio.converter import (
    BinaryNullPayloadConverter,
    DataConverter,
    DefaultFailureConverter,
    EncodingPayloadConverter,
    JSONPlainPayloadConverter,
)
from temporalio.exceptions import ApplicationError

from activities.contracts import ORDER_LINE_REFUSED
from runtime.codec import UNDECRYPTABLE, EncryptionCodec, Keyring
from workflows.names import ACTION_REFUSED

INVALID_INPUT = "InvalidInput"


def describe_validation_error(err: ValidationError) -> str:
    """`items[0].quantity: Input should be greater than or equal to 0; actor: Field required`."""
    problems = []
    for e in err.errors(include_url=False, include_input=False):
        path = ""
        for part in e["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        problems.append(f"{path or '(payload)'}: {e['msg']}")
    return "; ".join(problems)


class _ReadableJSON(PydanticJSONPlainPayloadConverter):
    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        try:
            return super().from_payload(payload, type_hint)
        except ValidationError as err:
            name = getattr(type_hint, "__name__", "payload")
            raise ApplicationError(f"invalid {name}: {describe_validation_error(err)}",
                                   type=INVALID_INPUT, non_retryable=True) from None


class _NullIsNotAnObject(BinaryNullPayloadConverter):
    """`null` where a model is expected (an empty input in the UI, `None` from a client) is refused
    like any other bad payload; the SDK would hand the handler None and fail inside it."""

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        value = super().from_payload(payload, type_hint)
        if isinstance(type_hint, type) and issubclass(type_hint, BaseModel):
            raise ApplicationError(f"invalid {type_hint.__name__}: (payload): a JSON object is "
                                   "required, not null", type=INVALID_INPUT, non_retryable=True)
        return value


class _Undecryptable(EncodingPayloadConverter):
    """A payload the worker's codec could not decrypt (runtime/codec.py, tolerant): converting
    it raises, naming why, so the one message it carried is refused, not the workflow task."""

    @property
    def encoding(self) -> str:
        return UNDECRYPTABLE.decode()

    def to_payload(self, value: Any) -> Payload | None:
        return None  # never written

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        raise ApplicationError(f"the payload could not be decrypted: {payload.data.decode()}",
                               type=INVALID_INPUT, non_retryable=True)


class ReadablePayloadConverter(PydanticPayloadConverter):
    def __init__(self) -> None:
        super().__init__()
        self.converters = {
            enc: (_ReadableJSON() if isinstance(conv, JSONPlainPayloadConverter | PydanticJSONPlainPayloadConverter)
                  else _NullIsNotAnObject() if isinstance(conv, BinaryNullPayloadConverter) else conv)
            for enc, conv in self.converters.items()
        }
        self.converters[UNDECRYPTABLE] = _Undecryptable()


data_converter = DataConverter(payload_converter_class=ReadablePayloadConverter)

# Refusals of operator input: their messages name a field or a state, never personal data, and the
# Web UI's update dialog shows a failure's message without decoding it through the codec server.
# An order line's refusal (activities/order_lines.py) names a line, a return and amounts, too.
PLAIN_FAILURE_TYPES = frozenset({ACTION_REFUSED, INVALID_INPUT, ORDER_LINE_REFUSED})


class EncodedFailuresExceptRefusals(DefaultFailureConverter):
    """Failure messages and stack traces encrypted (they can quote an email), except refusals."""

    def __init__(self) -> None:
        super().__init__(encode_common_attributes=True)

    def to_failure(self, exception, payload_converter, failure) -> None:
        super().to_failure(exception, payload_converter, failure)
        if isinstance(exception, ApplicationError) and exception.type in PLAIN_FAILURE_TYPES:
            failure.ClearField("encoded_attributes")
            failure.message = exception.message
            failure.stack_trace = ""


def encrypted_data_converter(keyring: Keyring | Callable[[], Keyring] = Keyring.from_env,
                             tolerant: bool = False) -> DataConverter:
    """The readable converter plus the AES-GCM codec; `keyring` may be loaded on first use.
    `tolerant` for the worker: an undecryptable payload fails only the message it carries."""
    return DataConverter(payload_converter_class=ReadablePayloadConverter,
                         payload_codec=EncryptionCodec(keyring, tolerant=tolerant),
                         failure_converter_class=EncodedFailuresExceptRefusals)
