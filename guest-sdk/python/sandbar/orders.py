"""Orders one `on_bar` sends: market, limit, and target (a market order for the difference)."""

BUY, SELL = "buy", "sell"

# A difference below this is "already there" (as the Rust SDK's `Orders::target`).
QUANTITY_EPSILON = 1e-9


class Order:
    __slots__ = ("symbol", "side", "quantity", "limit")

    def __init__(self, symbol, side, quantity, limit=None):
        self.symbol, self.side, self.quantity, self.limit = symbol, side, quantity, limit

    def __eq__(self, other):
        return isinstance(other, Order) and self.key() == other.key()

    def key(self):
        return (self.symbol, self.side, self.quantity, self.limit)

    def __repr__(self):
        kind = "market" if self.limit is None else f"limit {self.limit!r}"
        return f"Order({self.side} {self.quantity!r} of #{self.symbol}, {kind})"


class Orders:
    """The order buffer `on_bar` writes into; most bars leave it empty."""

    def __init__(self):
        self.orders = []

    def market(self, symbol, side, quantity):
        """Fill at the open of the symbol's next bar."""
        self.orders.append(Order(symbol, side, float(quantity)))

    def limit(self, symbol, side, quantity, price):
        """Fill on the symbol's next bar at `price` or better, else expire."""
        self.orders.append(Order(symbol, side, float(quantity), float(price)))

    def target(self, symbol, current, target):
        """Move `current` quantity to `target` (both signed) with a market
        order for the difference; nothing when already there or either is NaN."""
        delta = target - current
        if delta > QUANTITY_EPSILON:
            self.market(symbol, BUY, delta)
        elif delta < -QUANTITY_EPSILON:
            self.market(symbol, SELL, -delta)

    def __len__(self):
        return len(self.orders)

    def __iter__(self):
        return iter(self.orders)
