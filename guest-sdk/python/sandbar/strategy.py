"""The `Strategy` base class: what a Python strategy subclasses."""

from . import params as _params
from .indicators import carried
from .orders import Orders


class Bar:
    """One OHLCV bar (the contract's `bar`); `symbol` indexes `self.symbols`."""

    __slots__ = ("seq", "ts_ms", "symbol", "open", "high", "low", "close", "volume")

    def __init__(self, seq, ts_ms, symbol, open, high, low, close, volume=0.0):
        self.seq, self.ts_ms, self.symbol = seq, ts_ms, symbol
        self.open, self.high, self.low, self.close, self.volume = open, high, low, close, volume


class Position:
    """The strategy's own position in the bar's symbol, kept by the host."""

    __slots__ = ("quantity", "avg_price", "cash", "equity")

    def __init__(self, quantity=0.0, avg_price=0.0, cash=0.0, equity=0.0):
        self.quantity, self.avg_price, self.cash, self.equity = quantity, avg_price, cash, equity


class Fill:
    """One of the strategy's orders, filled."""

    __slots__ = ("seq", "ts_ms", "symbol", "side", "quantity", "price", "commission")

    def __init__(self, seq, ts_ms, symbol, side, quantity, price, commission=0.0):
        self.seq, self.ts_ms, self.symbol, self.side = seq, ts_ms, symbol, side
        self.quantity, self.price, self.commission = quantity, price, commission


@carried
class PerSymbol:
    """One state per symbol of `init`, made by `factory()`; indexed by `bar.symbol`."""

    def __init__(self, symbols, factory):
        self.names = list(symbols)
        self.states = [factory() for _ in self.names]

    def entry(self, symbol):
        """(name, state) of a symbol index, or None for an index out of range."""
        if 0 <= symbol < len(self.states):
            return self.names[symbol], self.states[symbol]
        return None

    def __getitem__(self, symbol):
        return self.states[symbol]

    def __len__(self):
        return len(self.states)


class Strategy:
    """Subclass it, declare parameters with `param`, and write `on_bar`.

        class SmaCross(Strategy):
            name = "sma-cross"
            fast = param(10, "Lookback of the fast average, in bars.")

            def setup(self):                 # after the parameters are set
                self.sma = self.per_symbol(lambda: Sma(self.fast))

            def on_bar(self, bar, position, orders):
                ...

    Everything `setup` and `on_bar` keep on `self` (except parameters and
    names starting with `_`) is the state a hot swap carries (`snapshot.py`).
    """

    name = "strategy"
    version = "0.1.0"
    description = ""
    # Bump when the state's shape changes: an old snapshot is then refused
    # and the host replays history into the new version.
    state_layout = 1
    # Parameters the state depends on; None means all of them. A snapshot
    # made with other values of these is refused (replay instead).
    carried_params = None

    @classmethod
    def params(cls):
        """The declared parameters, in declaration order."""
        seen, out = set(), []
        for klass in reversed(cls.__mro__):
            for key, value in vars(klass).items():
                if isinstance(value, _params.Param) and key not in seen:
                    seen.add(key)
                    out.append(value)
        # A subclass may redeclare a parameter: keep its latest declaration.
        latest = {p.name: getattr(cls, p.name) for p in out}
        return [latest[p.name] for p in out]

    def __init__(self, symbols=(), values=()):
        """`values`: (name, kind, value) triples, as `init` gives them."""
        self.symbols = list(symbols)
        declared = {p.name: p for p in type(self).params()}
        given = set()
        for name, kind, value in values:
            p = declared.get(name)
            if p is None:
                raise _params.unknown(name, list(declared))
            if name in given:
                raise _params.duplicate(name)
            given.add(name)
            setattr(self, name, p.accept(kind, value))
        self.validate()
        self.setup()

    def validate(self):
        """Refuse parameter values: `raise self.invalid("fast", "must be at least 1")`."""

    def setup(self):
        """Build the state, once the parameters are set."""

    def invalid(self, name, reason):
        return _params.invalid(name, reason)

    def per_symbol(self, factory):
        return PerSymbol(self.symbols, factory)

    def warmup_bars(self):
        """Bars needed before the strategy can trade (with these parameters)."""
        return 0

    def on_bar(self, bar, position, orders):
        """One bar in; write orders into `orders` (most bars write none)."""

    def on_fill(self, fill):
        """One of the strategy's orders filled."""

    # The state a hot swap carries.
    def state(self):
        names = {p.name for p in type(self).params()}
        return {
            k: v
            for k, v in sorted(vars(self).items())
            if not k.startswith("_") and k not in names and k != "symbols"
        }

    def restore_state(self, state):
        for k, v in state.items():
            setattr(self, k, v)

    def param_values(self):
        keep = type(self).carried_params
        return {
            p.name: getattr(self, p.name)
            for p in type(self).params()
            if keep is None or p.name in keep
        }

    def bar(self, bar, position=None):
        """Calls on_bar and returns its orders (for tests)."""
        orders = Orders()
        self.on_bar(bar, position or Position(), orders)
        return orders.orders
