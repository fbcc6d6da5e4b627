"""Load and validate every merchant policy file in a directory.

A broken policy file must stop the worker at start-up with a message an operations lead can act
on: which file, which field (dotted path), what is wrong.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from returns.policy.schema import MerchantPolicy


class PolicyFileError(ValueError):
    """A policy file cannot be used; the message names the file, the field and the problem."""


class UnknownMerchant(KeyError):
    """No policy file for this merchant id."""

    def __init__(self, merchant_id: str, known: Iterable[str]) -> None:
        self.merchant_id = merchant_id
        self.known = sorted(known)
        super().__init__(merchant_id)

    def __str__(self) -> str:  # KeyError would print the repr of its argument
        known = ", ".join(self.known) or "none"
        return f"no return policy for merchant {self.merchant_id!r} (known merchants: {known})"


_FIELD_IN_MESSAGE = re.compile(r"^([A-Za-z_][\w.]*): (.*)$", re.DOTALL)


def _problem(loc: tuple, message: str) -> tuple[str, str]:
    """(dotted field path, problem). Cross-field checks name their field at the start of the
    message ("instead.refund: ..."); it is joined to the location so every error has one path."""
    parts = [str(part) for part in loc]
    found = _FIELD_IN_MESSAGE.match(message)
    if found:
        parts.append(found.group(1))
        message = found.group(2)
    return ".".join(parts) or "(file)", message


def load_policy_file(path: Path) -> MerchantPolicy:
    """Parse and validate one TOML policy file."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyFileError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise PolicyFileError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return MerchantPolicy.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            field, message = _problem(error["loc"], error["msg"].removeprefix("Value error, "))
            problems.append(f"{path}: {field}: {message}")
        raise PolicyFileError("\n".join(problems)) from None


class PolicyRegistry:
    """Every merchant's policy, by merchant id."""

    def __init__(self, policies: dict[str, MerchantPolicy], sources: dict[str, Path] | None = None):
        self._policies = dict(policies)
        self._sources = dict(sources or {})

    @classmethod
    def load(cls, directory: Path) -> "PolicyRegistry":
        directory = Path(directory)
        if not directory.is_dir():
            raise PolicyFileError(f"{directory}: policy directory does not exist")
        policies: dict[str, MerchantPolicy] = {}
        sources: dict[str, Path] = {}
        for path in sorted(directory.glob("*.toml")):
            policy = load_policy_file(path)
            mid = policy.merchant_id
            if mid in policies:
                raise PolicyFileError(f"{path}: policy.merchant_id: {mid!r} is already defined "
                                      f"in {sources[mid]}")
            policies[mid] = policy
            sources[mid] = path
        if not policies:
            raise PolicyFileError(f"{directory}: no policy files (*.toml)")
        return cls(policies, sources)

    @classmethod
    def of(cls, *policies: MerchantPolicy) -> "PolicyRegistry":
        """A registry from policies already in memory (tests, a single merchant)."""
        return cls({p.merchant_id: p for p in policies})

    def get(self, merchant_id: str) -> MerchantPolicy:
        try:
            return self._policies[merchant_id]
        except KeyError:
            raise UnknownMerchant(merchant_id, self._policies) from None

    def source(self, merchant_id: str) -> Path | None:
        return self._sources.get(merchant_id)

    @property
    def merchant_ids(self) -> list[str]:
        return sorted(self._policies)

    def __contains__(self, merchant_id: object) -> bool:
        return merchant_id in self._policies
