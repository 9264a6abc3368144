"""schemathesis hooks (SCHEMATHESIS_HOOKS=fuzz_hooks) that make its generated requests
hostile the way a careless or malicious client is: a string of the body or path replaced
by one holding NUL or a lone surrogate, or the body buried in JSON nested far deeper than
any request needs. tests/test_fuzz.py runs schemathesis with them."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import strategies as st

HOSTILE_STRINGS = ("a\x00b", "\x00", "\ud800 x", "x \udfff", "\ud83d", "c\x00\ud800d")
# a URL cannot carry a lone surrogate (no UTF-8 encoding): paths get NUL and controls
PATH_STRINGS = ("a\x00b", "\x00", " ", "a\nb", "x" * 300)
# deeper than the server's limit (64); shallow enough for the client's JSON encoder
NESTING = 300


def _strings(value: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(value, str):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _strings(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _strings(v, (*path, i))]
    return []


def _replaced(value: Any, path: tuple, new: str) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replaced(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replaced(copy[head], rest, new)
    return copy


def _nested(body: Any) -> Any:
    for _ in range(NESTING):
        body = [body]
    return body


@schemathesis.hook
def flatmap_body(context: Any, body: Any) -> st.SearchStrategy:
    if isinstance(body, bytes | str):  # a raw body (signed routes): left as generated
        return st.just(body)
    paths = _strings(body)
    poisoned = (
        st.tuples(st.sampled_from(paths), st.sampled_from(HOSTILE_STRINGS)).map(
            lambda choice: _replaced(body, *choice)
        )
        if paths
        else st.just(body)
    )
    return st.one_of(st.just(body), poisoned, st.just(_nested(body)))


@schemathesis.hook
def flatmap_path_parameters(context: Any, path_parameters: Any) -> st.SearchStrategy:
    if not path_parameters:
        return st.just(path_parameters)
    names = sorted(path_parameters)
    return st.one_of(
        st.just(path_parameters),
        st.tuples(st.sampled_from(names), st.sampled_from(PATH_STRINGS)).map(
            lambda choice: {**path_parameters, choice[0]: choice[1]}
        ),
    )
