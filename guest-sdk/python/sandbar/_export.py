"""The glue from the contract's exports (`sandbar:strategy@0.1.0`) to a
`Strategy` subclass: what `runtime build` makes the component's `WitWorld`.

Every export catches what the strategy raises: `init` and `restore` return it
as their error result; the others log it at error level (file:line, message,
traceback) and then trap, so the host reports a trap that carries the text.
"""

from wit_world.imports import types as t

from . import errors, snapshot
from . import log as _log
from . import params as _params
from .orders import BUY, Orders
from .strategy import Bar, Fill, Position

_KIND = {
    _params.INT: t.ParamKind.INT,
    _params.FLOAT: t.ParamKind.FLOAT,
    _params.BOOLEAN: t.ParamKind.BOOLEAN,
    _params.TEXT: t.ParamKind.TEXT,
}


def _value(kind, v):
    if kind == _params.INT:
        return t.ParamValue_Int(v)
    if kind == _params.FLOAT:
        return t.ParamValue_Float(v)
    if kind == _params.BOOLEAN:
        return t.ParamValue_Boolean(v)
    return t.ParamValue_Text(v)


def _unwrap(pv):
    if isinstance(pv, t.ParamValue_Int):
        return _params.INT, pv.value
    if isinstance(pv, t.ParamValue_Float):
        return _params.FLOAT, pv.value
    if isinstance(pv, t.ParamValue_Boolean):
        return _params.BOOLEAN, pv.value
    return _params.TEXT, pv.value


def _fail(export, exc):
    text = errors.describe(export, exc)
    _log.error(text)
    return text


def export(cls):
    """The `WitWorld` class for strategy class `cls`."""
    from componentize_py_types import Err

    from . import sandbox

    sandbox.install()

    market = t.OrderKind_Market()
    side = {BUY: t.Side.BUY}

    class WitWorld:
        strategy = None

        def describe(self):
            try:
                specs = [
                    t.ParamSpec(p.name, _KIND[p.kind], _value(p.kind, p.default), p.description)
                    for p in cls.params()
                ]
                warmup = cls(["_"], []).warmup_bars()
                return t.StrategyInfo(cls.name, cls.version, cls.description, specs, int(warmup))
            except Exception as exc:
                _fail("describe", exc)
                raise

        def init(self, symbols, params):
            try:
                WitWorld.strategy = cls(symbols, [(p.name, *_unwrap(p.value)) for p in params])
            except _params.ParamError as exc:
                raise Err(str(exc))
            except Exception as exc:
                raise Err(_fail("init", exc))

        def on_bar(self, bar, position):
            s = WitWorld.strategy
            orders = Orders()
            try:
                s.on_bar(
                    Bar(bar.seq, bar.ts_ms, bar.symbol, bar.open, bar.high, bar.low, bar.close, bar.volume),
                    Position(position.quantity, position.avg_price, position.cash, position.equity),
                    orders,
                )
            except Exception as exc:
                _fail("on_bar", exc)
                raise
            if not orders.orders:
                return []
            return [
                t.Order(
                    o.symbol,
                    side.get(o.side, t.Side.SELL),
                    o.quantity,
                    market if o.limit is None else t.OrderKind_Limit(o.limit),
                )
                for o in orders.orders
            ]

        def on_fill(self, fill):
            try:
                f = Fill(
                    fill.seq,
                    fill.ts_ms,
                    fill.symbol,
                    "buy" if fill.side == t.Side.BUY else "sell",
                    fill.quantity,
                    fill.price,
                    fill.commission,
                )
                WitWorld.strategy.on_fill(f)
            except Exception as exc:
                _fail("on_fill", exc)
                raise

        def snapshot(self):
            s = WitWorld.strategy
            try:
                return snapshot.dump(cls.name, cls.state_layout, s.symbols, s.param_values(), s.state())
            except Exception as exc:
                _fail("snapshot", exc)
                raise

        def restore(self, state):
            s = WitWorld.strategy
            try:
                s.restore_state(
                    snapshot.load(state, cls.name, cls.state_layout, s.symbols, s.param_values())
                )
            except snapshot.SnapshotError as exc:
                raise Err(str(exc))
            except Exception as exc:
                raise Err(_fail("restore", exc))

    return WitWorld


def find_strategy(module, name=None):
    """The Strategy subclass `name` of `module`, or its only one."""
    from .strategy import Strategy

    if name:
        cls = getattr(module, name, None)
        if not (isinstance(cls, type) and issubclass(cls, Strategy)):
            raise TypeError(f"{module.__name__} has no Strategy subclass named {name}")
        return cls
    found = [
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, Strategy) and v is not Strategy and v.__module__ == module.__name__
    ]
    if len(found) != 1:
        names = ", ".join(sorted(c.__name__ for c in found)) or "none"
        raise TypeError(
            f"{module.__name__} defines {len(found)} Strategy subclasses ({names}); "
            "name one with `strategy = \"ClassName\"` under [tool.sandbar] in pyproject.toml"
        )
    return found[0]
