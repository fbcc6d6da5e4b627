"""Hypothesis strategies for bad input: take a valid JSON document and break it in one place, in a
way that is always invalid (a wrong JSON type, a required field removed, an unknown field added, a
value outside its constraint). Each example says which path it broke, so a test can check that the
error names that field."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Broken:
    document: Any
    path: Path  # what was broken; () = the whole document
    how: str

    @property
    def field(self) -> str:
        """The path as the error messages write it: `order.lines[0].unit_price`."""
        out = ""
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
        return out


def _nodes(doc: Any, path: Path = ()):
    yield path, doc
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _nodes(value, path + (key,))
    elif isinstance(doc, list):
        for n, value in enumerate(doc):
            yield from _nodes(value, path + (n,))


def _set(doc: Any, path: Path, value: Any) -> Any:
    doc = copy.deepcopy(doc)
    if not path:
        return value
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return doc


def _delete(doc: Any, path: Path) -> Any:
    doc = copy.deepcopy(doc)
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    del parent[path[-1]]
    return doc


def _wrong_type(value: Any) -> st.SearchStrategy:
    """A JSON value of a type `value`'s field can never accept."""
    if isinstance(value, dict):
        return st.sampled_from(["oops", 7, ["a"]])
    if isinstance(value, list):
        return st.sampled_from(["oops", 7, {"a": 1}])
    return st.sampled_from([{"a": 1}, [{"a": 1}], {}])


def broken(valid: dict, required: set[Path], constrained: dict[Path, list[Any]] | None = None
           ) -> st.SearchStrategy[Broken]:
    """One-place breakages of `valid`. `required`: paths that may be deleted (with `*` for any list
    index); `constrained`: path -> values that break that field's constraint."""
    nodes = [(p, v) for p, v in _nodes(valid) if p]
    objects = [p for p, v in _nodes(valid) if isinstance(v, dict)]

    def matches(path: Path, pattern: Path) -> bool:
        return len(path) == len(pattern) and all(
            b == "*" and isinstance(a, int) or a == b for a, b in zip(path, pattern))

    deletable = [p for p, _ in nodes if any(matches(p, r) for r in required)]
    strategies = [
        st.sampled_from(nodes).flatmap(lambda pv: _wrong_type(pv[1]).map(
            lambda bad, pv=pv: Broken(_set(valid, pv[0], bad), pv[0], f"wrong type {bad!r}"))),
        st.tuples(st.sampled_from(objects), st.from_regex(r"\A[a-z][a-z_]{2,12}\Z")).filter(
            lambda pk: pk[1] not in _get(valid, pk[0])).map(
            lambda pk: Broken(_set(valid, pk[0] + (pk[1],), "surprise"), pk[0] + (pk[1],),
                              "unknown field")),
    ]
    if deletable:
        strategies.append(st.sampled_from(deletable).map(
            lambda p: Broken(_delete(valid, p), p, "required field removed")))
    for path, values in (constrained or {}).items():
        strategies.append(st.sampled_from(values).map(
            lambda bad, path=path: Broken(_set(valid, path, bad), path, f"constraint {bad!r}")))
    strategies.append(st.sampled_from(["text", 42, ["list"], None, True]).map(
        lambda bad: Broken(bad, (), "not an object")))
    return st.one_of(strategies)


def _get(doc: Any, path: Path) -> Any:
    for part in path:
        doc = doc[part]
    return doc
