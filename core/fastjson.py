"""json.loads / json.dumps for the guard hook, on the C accelerator `_json` itself.

`import json` costs ~6-8 ms of a ~40 ms hook: json.decoder compiles regular expressions, which
loads re and enum. The C scanner and encoder that json uses underneath need neither, so this
module drives them directly with the settings json's defaults give them: the same objects out of
loads, the same text out of dumps. Anything unusual (an error to raise with json's message, bytes
that are not plain UTF-8, an interpreter without `_json`) goes to the standard library, which is
imported then and only then.
"""

from __future__ import annotations

try:
    from _json import encode_basestring, encode_basestring_ascii, make_encoder, make_scanner
except ImportError:          # an interpreter without the accelerator: the standard library, as is
    make_scanner = make_encoder = None  # type: ignore[misc,assignment]  # (typeshed: always there)

_WS = " \t\n\r"             # JSON's whitespace (json.decoder's WHITESPACE)


def _stdlib():
    import json
    return json


class _Context:
    """The attributes the C scanner reads from json.JSONDecoder(), with json.loads' defaults."""
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo: dict = {}

    def __init__(self):
        nan, inf = float("nan"), float("inf")
        self.parse_constant = {"-Infinity": -inf, "Infinity": inf, "NaN": nan}.__getitem__
        self.memo = {}


# The C scanner reads these attributes of its argument (typeshed asks for a JSONDecoder's scanner).
_scan = make_scanner(_Context()) if make_scanner is not None else None  # type: ignore[arg-type]


def loads(s: str | bytes | bytearray):
    """json.loads(s): the same value, or the same exception (raised by json itself)."""
    if _scan is None:
        return _stdlib().loads(s)
    if not isinstance(s, str):
        # json.loads sniffs UTF-16/32 and BOMs from the first bytes; plain UTF-8 is all we write.
        if not isinstance(s, (bytes, bytearray)) or s[:1] in (b"\xef", b"\xfe", b"\xff") or b"\x00" in s[:4]:
            return _stdlib().loads(s)
        text = s.decode("utf-8", "surrogatepass")
    elif s.startswith("\ufeff"):
        return _stdlib().loads(s)
    else:
        text = s
    start = len(text) - len(text.lstrip(_WS))
    try:
        value, end = _scan(text, start)
    except (StopIteration, ValueError, RecursionError, SystemError):
        # Bad JSON: json raises its own error (message, position). (Before json.decoder is
        # imported, the C scanner cannot build that error and fails with a SystemError.)
        return _stdlib().loads(s)
    if end != len(text) and len(text.rstrip(_WS)) != end:
        return _stdlib().loads(s)            # "Extra data"
    return value


def _default(o):
    raise TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")


def dumps(obj, *, ensure_ascii: bool = True, separators: tuple[str, str] | None = None,
          sort_keys: bool = False, default=None) -> str:
    """json.dumps(obj, ensure_ascii=, separators=, sort_keys=, default=): the same text (no indent)."""
    if make_encoder is not None:
        quote = encode_basestring_ascii if ensure_ascii else encode_basestring
        if isinstance(obj, str):
            return quote(obj)
        item_sep, key_sep = separators or (", ", ": ")
        try:
            # A new encoder per call, as json makes one: its circular-reference markers start empty.
            encode = make_encoder({}, default or _default, quote, None, key_sep, item_sep, sort_keys, False, True)
            return "".join(encode(obj, 0))
        except (TypeError, ValueError, RecursionError):
            pass      # json's own exception and message (unserialisable object, circular reference, ...)
    return _stdlib().dumps(obj, ensure_ascii=ensure_ascii, separators=separators, sort_keys=sort_keys,
                           default=default)


def _float_text(o: float) -> str:
    if o != o:
        return "NaN"
    if o == _INF:
        return "Infinity"
    if o == -_INF:
        return "-Infinity"
    return float.__repr__(o)


_INF = float("inf")


def _strict_float_text(o: float) -> str:
    return float.__repr__(o) if o - o == 0 else "null"     # (NaN and ±Infinity are no JSON)


def dump_indented(obj, write, *, flush_every: int = 8192, allow_nan: bool = True) -> None:
    """json.dump(obj, stream, indent=2, ensure_ascii=False) to `write`: the same text, the same
    errors (an unserialisable value, a bad key, a circular reference: TypeError / ValueError
    with json's message, after what came before it was written, as json.dump does). json writes
    indented text with its pure-Python encoder, a generator per level; this writes the same
    pieces straight into a list, handed to `write` every `flush_every` pieces so that a report of
    hundreds of MB never sits in memory whole (a 1 GB ledger's daily report 6 -> 4 ms; a 3 MB
    session report 147 -> 72 ms)."""
    float_text = _float_text if allow_nan else _strict_float_text
    parts: list[str] = []
    append = parts.append
    quote = encode_basestring if make_encoder is not None else _stdlib().encoder.py_encode_basestring
    on_path: set[int] = set()

    def key_text(k) -> str:
        if isinstance(k, str):
            return k
        if isinstance(k, float):
            return float_text(k)
        if k is True:
            return "true"
        if k is False:
            return "false"
        if k is None:
            return "null"
        if isinstance(k, int):
            return int.__repr__(k)
        raise TypeError(f"keys must be str, int, float, bool or None, not {k.__class__.__name__}")

    def put(o, pad: str) -> None:
        t = type(o)
        if t is str:
            append(quote(o))
        elif t is int:
            append(int.__repr__(o))
        elif t is float:
            append(float_text(o))
        elif o is None:
            append("null")
        elif o is True:
            append("true")
        elif o is False:
            append("false")
        elif isinstance(o, str):
            append(quote(o))
        elif isinstance(o, int):
            append(int.__repr__(o))
        elif isinstance(o, float):
            append(float_text(o))
        elif isinstance(o, (list, tuple, dict)):
            if not o:
                append("{}" if isinstance(o, dict) else "[]")
                return
            if id(o) in on_path:
                raise ValueError("Circular reference detected")
            on_path.add(id(o))
            inner = pad + "  "
            if isinstance(o, dict):
                sep = "{\n" + inner
                for k, v in o.items():
                    append(sep)
                    append(quote(k if type(k) is str else key_text(k)))
                    append(": ")
                    put(v, inner)
                    sep = ",\n" + inner
                    if len(parts) > flush_every:
                        write("".join(parts))
                        parts.clear()
                append("\n" + pad + "}")
            else:
                sep = "[\n" + inner
                for v in o:
                    append(sep)
                    put(v, inner)
                    sep = ",\n" + inner
                    if len(parts) > flush_every:
                        write("".join(parts))
                        parts.clear()
                append("\n" + pad + "]")
            on_path.discard(id(o))
        else:
            raise TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")

    try:
        put(obj, "")
    finally:
        if parts:
            write("".join(parts))


def dumps_indented(obj) -> str:
    """json.dumps(obj, indent=2, ensure_ascii=False): the same text (see dump_indented)."""
    out: list[str] = []
    dump_indented(obj, out.append)
    return "".join(out)
