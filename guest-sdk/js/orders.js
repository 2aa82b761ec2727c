// Orders one `onBar` sends: market, limit, and target (a market order for
// the difference), as the Rust SDK's `Orders` and the Python SDK.

export const BUY = "buy";
export const SELL = "sell";

/** A difference below this is "already there" (as the Rust SDK's `Orders::target`). */
export const QUANTITY_EPSILON = 1e-9;

export class Order {
  constructor(symbol, side, quantity, limit = null) {
    this.symbol = symbol;
    this.side = side;
    this.quantity = quantity;
    this.limit = limit;
  }

  /** `[symbol, side, quantity, limit]`, for comparisons in tests. */
  key() {
    return [this.symbol, this.side, this.quantity, this.limit];
  }

  toString() {
    const kind = this.limit === null ? "market" : `limit ${this.limit}`;
    return `Order(${this.side} ${this.quantity} of #${this.symbol}, ${kind})`;
  }
}

function checkSide(side) {
  if (side !== BUY && side !== SELL) {
    throw new TypeError(`an order's side is BUY ("buy") or SELL ("sell"), not ${JSON.stringify(side)}`);
  }
}

/** The order buffer `onBar` writes into; most bars leave it empty. */
export class Orders {
  constructor() {
    this.orders = [];
  }

  /** Fill at the open of the symbol's next bar. */
  market(symbol, side, quantity) {
    checkSide(side);
    this.orders.push(new Order(symbol, side, Number(quantity)));
  }

  /** Fill on the symbol's next bar at `price` or better, else expire. */
  limit(symbol, side, quantity, price) {
    checkSide(side);
    this.orders.push(new Order(symbol, side, Number(quantity), Number(price)));
  }

  /**
   * Move `current` quantity to `target` (both signed) with a market order
   * for the difference; nothing when already there or either is NaN.
   */
  target(symbol, current, target) {
    const delta = target - current;
    if (delta > QUANTITY_EPSILON) {
      this.market(symbol, BUY, delta);
    } else if (delta < -QUANTITY_EPSILON) {
      this.market(symbol, SELL, -delta);
    }
  }

  get length() {
    return this.orders.length;
  }

  [Symbol.iterator]() {
    return this.orders[Symbol.iterator]();
  }
}
