"""JSON as an API can mean it: the strict reading of request bodies.

Python's `json.loads` accepts more than an API can mean: `NaN` and `Infinity` (not JSON
at all), numbers too large for any field (`1e400` becomes infinity), lone surrogates in
strings (which no UTF-8 encoder writes back), and nesting as deep as its recursion limit.
`loads` refuses all of that, following I-JSON (RFC 7493):

- `NaN`, `Infinity`, `-Infinity` and bodies nested deeper than `MAX_DEPTH` levels are not
  JSON the API reads: `JsonRefused` with `malformed=True` (the API answers 400);
- numbers outside the range of a 64-bit integer (`NUMBER_LIMIT`) and strings with unpaired
  surrogates are JSON with a value no field can hold: `malformed=False`, and `pointer` says
  where (the API answers 422).

Well-formed bodies cost one `json.loads`; the walk that finds where a value is refused
runs only for bodies with many brackets, large numbers or surrogate escapes.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - a dependency; the standard library does the same, slower
    orjson = None  # type: ignore[assignment]

MAX_DEPTH = 64  # no request of the API nests deeper than a dozen levels
NUMBER_LIMIT = 2**63  # |n| < 2^63: the range of a 64-bit integer, more than any field means

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
_LONG_NUMBER = re.compile(rb"[0-9]{19}")
_EXPONENT = re.compile(rb"[0-9][eE]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonRefused(ValueError):
    """A body that is not JSON the API can mean.

    `malformed`: not JSON at all, or nested too deep (400); otherwise a value no field can
    hold, at `pointer` (a JSON pointer into the body; 422).
    """

    def __init__(self, message: str, *, malformed: bool = True, pointer: str = ""):
        self.malformed, self.pointer = malformed, pointer
        super().__init__(message)


class _OutOfRange:
    """Stands for a number outside NUMBER_LIMIT until the walk reports where it is."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


def _constant(name: str) -> Any:
    raise JsonRefused(f"{name} is not a JSON value")


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse a request body strictly (see the module's docstring); `JsonRefused` says why not.

    orjson reads the body when it can say everything needed (it refuses NaN, infinities and
    lone surrogates itself; numbers of 19 digits or more, which it would read as floats, go
    the slow way); otherwise, and to say what is wrong, the standard library reads it.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if orjson is not None and not _LONG_NUMBER.search(raw):
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # the slow way says precisely what is wrong
        else:
            if raw.count(b"[") + raw.count(b"{") > max_depth:
                _check_depth(value, max_depth)
            if _EXPONENT.search(raw):  # only an exponent makes a short float too large
                _find_refused(value)
            return value
    out_of_range: list[str] = []

    def number(text: str, convert: Any) -> Any:
        if len(text) <= 25:  # longer is out of range whatever it says (and Python converts no more than 4300 digits)
            value = convert(text)
            if math.isfinite(value) and abs(value) < NUMBER_LIMIT:
                return value
        out_of_range.append(text)
        return _OutOfRange(text)

    try:
        value = json.loads(
            data,
            parse_constant=_constant,
            parse_float=lambda text: number(text, float),
            parse_int=lambda text: number(text, int),
        )
    except JsonRefused:
        raise
    except RecursionError:
        raise JsonRefused(f"the body is nested deeper than {max_depth} levels") from None
    except (ValueError, UnicodeError) as exc:  # JSONDecodeError is a ValueError
        raise JsonRefused(f"not valid JSON: {exc}") from None
    suspect = _SURROGATE.search(data) if isinstance(data, str) else _SURROGATE_ESCAPE.search(raw)
    if raw.count(b"[") + raw.count(b"{") > max_depth:
        _check_depth(value, max_depth)
    if out_of_range or suspect:
        _find_refused(value)
    return value


def _check_depth(value: Any, max_depth: int) -> None:
    level, depth = [value], 0
    while level:
        if depth >= max_depth:
            raise JsonRefused(f"the body is nested deeper than {max_depth} levels")
        below: list[Any] = []
        for node in level:
            children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
            below.extend(c for c in children if isinstance(c, (dict, list)))
        level, depth = below, depth + 1


def _find_refused(value: Any) -> None:
    """Where a number out of range or an unpaired surrogate is (the parser only said that there is one)."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            for key, item in node.items():
                if _SURROGATE.search(key):
                    raise JsonRefused(
                        "a property name holds an unpaired UTF-16 surrogate", malformed=False, pointer=_pointer(path)
                    )
                stack.append((item, (*path, key)))
        elif isinstance(node, list):
            stack.extend((item, (*path, str(index))) for index, item in enumerate(node))
        elif isinstance(node, _OutOfRange) or (isinstance(node, float) and not abs(node) < NUMBER_LIMIT):
            text = node.text if isinstance(node, _OutOfRange) else repr(node)
            raise JsonRefused(
                f"{_short(text)} is out of range (numbers must lie between -2^63 and 2^63)",
                malformed=False,
                pointer=_pointer(path),
            )
        elif isinstance(node, str) and _SURROGATE.search(node):
            raise JsonRefused("the string holds an unpaired UTF-16 surrogate", malformed=False, pointer=_pointer(path))


def _pointer(path: tuple[str, ...]) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in path)


def _short(text: str) -> str:
    return text if len(text) <= 30 else text[:27] + "..."
