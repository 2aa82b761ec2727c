"""The snapshot encoding of a Python strategy's state (format version 1).

    bytes 0..4   b"SBPY"         magic: a Python SDK snapshot
    byte  4      1               this encoding's version
    bytes 5..    UTF-8 JSON      {"layout", "params", "state", "strategy", "symbols"}

The JSON is written with sorted keys and no spaces, so the same state is the
same bytes. `strategy` is `Strategy.name`; `layout` is `Strategy.state_layout`
(bump it when the state's shape changes); `symbols` and `params` are what the
state was built for (only the `carried_params`). Values are JSON values, with
indicators and other `@carried` classes as {"$type": name, "fields": {...}}
and deques as {"$type": "deque", "items": [...]}; floats are written as
Python's repr, which reads back to the same double (NaN and infinities too).

A snapshot that does not match (another encoding version, strategy, layout,
symbols or parameters) is refused by `restore` with the reason, and the host
replays history into the new version instead, as for a Rust strategy.
"""

import json
from collections import deque

from .indicators import carried_type

MAGIC = b"SBPY"
VERSION = 1


class SnapshotError(Exception):
    """A snapshot this instance cannot take over; the host replays instead."""


def encode(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, deque):
        return {"$type": "deque", "items": [encode(v) for v in value]}
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"a carried dict's keys must be strings, not {type(k).__name__}")
            if k == "$type":
                raise TypeError("a carried dict may not use the key '$type'")
            out[k] = encode(v)
        return out
    cls = type(value)
    if carried_type(cls.__name__) is cls:
        slots = getattr(cls, "__slots__", None)
        names = slots if slots is not None else sorted(vars(value))
        return {"$type": cls.__name__, "fields": {n: encode(getattr(value, n)) for n in names}}
    raise TypeError(
        f"cannot snapshot a {cls.__name__}: use JSON values, SDK indicators, or a class "
        "decorated with @sandbar.carried"
    )


def decode(value):
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        kind = value.get("$type")
        if kind is None:
            return {k: decode(v) for k, v in value.items()}
        if kind == "deque":
            return deque(decode(v) for v in value["items"])
        cls = carried_type(kind)
        if cls is None:
            raise SnapshotError(f"the snapshot holds a {kind}, which this version does not have")
        obj = cls.__new__(cls)
        for name, field in value["fields"].items():
            setattr(obj, name, decode(field))
        return obj
    return value


def dump(strategy, layout, symbols, params, state):
    doc = {
        "layout": layout,
        "params": params,
        "state": encode(state),
        "strategy": strategy,
        "symbols": list(symbols),
    }
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return MAGIC + bytes([VERSION]) + text.encode("utf-8")


def load(data, strategy, layout, symbols, params):
    """The state in `data`, after the checks above; SnapshotError if any fails."""
    data = bytes(data)
    if data[:4] != MAGIC:
        raise SnapshotError("not a Python SDK snapshot (no SBPY magic); replaying history instead")
    if len(data) < 5 or data[4] != VERSION:
        got = data[4] if len(data) > 4 else "none"
        raise SnapshotError(
            f"snapshot encoding version {got}, this SDK reads {VERSION}; replaying history instead"
        )
    try:
        doc = json.loads(data[5:].decode("utf-8"))
    except ValueError as e:
        raise SnapshotError(f"the snapshot is not valid JSON ({e}); replaying history instead")
    if doc.get("strategy") != strategy:
        raise SnapshotError(
            f"the snapshot is of strategy {doc.get('strategy')!r}, not {strategy!r}; replaying history instead"
        )
    if doc.get("layout") != layout:
        raise SnapshotError(
            f"state layout {doc.get('layout')} in the snapshot, {layout} in this version "
            "(state_layout changed); replaying history instead"
        )
    if doc.get("symbols") != list(symbols):
        raise SnapshotError(
            f"the snapshot is for symbols {doc.get('symbols')}, this instance trades {list(symbols)}; "
            "replaying history instead"
        )
    if doc.get("params") != params:
        raise SnapshotError(
            f"the snapshot was made with {doc.get('params')}, this instance has {params}; "
            "its state does not carry over, replaying history instead"
        )
    return decode(doc.get("state"))
