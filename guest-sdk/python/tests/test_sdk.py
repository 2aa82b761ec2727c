"""The Python SDK natively: parameters, orders, snapshots, errors (issue 18)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "strategies", "sma-cross-py"))

import sandbar  # noqa: E402
from sandbar import Bar, Orders, ParamError, Sma, SnapshotError, Strategy, errors, param, snapshot  # noqa: E402


class Demo(Strategy):
    name = "demo"
    period = param(5, "Lookback, in bars.")
    size = param(1.0, "Quantity.")
    short = param(False, "Allow short.")
    label = param("x", "A label.")

    def validate(self):
        if self.period < 1:
            raise self.invalid("period", f"must be at least 1 (got {self.period}); the default is 5")

    def setup(self):
        self.sma = self.per_symbol(lambda: Sma(self.period))
        self.bars = 0


class Params(unittest.TestCase):
    def test_issue_18_defaults_kinds_and_descriptions(self):
        specs = [(p.name, p.kind, p.default, p.description) for p in Demo.params()]
        self.assertEqual(
            specs,
            [
                ("period", "int", 5, "Lookback, in bars."),
                ("size", "float", 1.0, "Quantity."),
                ("short", "boolean", False, "Allow short."),
                ("label", "text", "x", "A label."),
            ],
        )
        d = Demo(["A"], [("size", "int", 2)])
        self.assertEqual((d.period, d.size), (5, 2.0))
        self.assertIsInstance(d.size, float)

    def test_issue_18_errors_say_how_to_fix_them(self):
        cases = [
            ([("peroid", "int", 3)], "unknown parameter `peroid`; did you mean `period`?"),
            ([("zzz", "int", 3)], "unknown parameter `zzz`; known parameters: period, size, short, label"),
            ([("period", "text", "3")], 'parameter `period` must be an integer, got the string "3"; for example period = 5'),
            ([("period", "int", 1), ("period", "int", 2)], "parameter `period` is given twice; keep one"),
            ([("period", "int", 0)], "parameter `period`: must be at least 1 (got 0); the default is 5"),
        ]
        for values, message in cases:
            with self.assertRaises(ParamError) as caught:
                Demo(["A"], values)
            self.assertEqual(str(caught.exception), message)


class OrdersTest(unittest.TestCase):
    def test_issue_18_target_market_limit(self):
        o = Orders()
        o.target(0, 0.0, 2.0)
        o.target(0, 2.0, 2.0 + 1e-12)
        o.target(1, 1.0, -1.0)
        o.target(0, 0.0, float("nan"))
        o.limit(0, sandbar.BUY, 1, 99.5)
        self.assertEqual(
            [x.key() for x in o],
            [(0, "buy", 2.0, None), (1, "sell", 2.0, None), (0, "buy", 1.0, 99.5)],
        )


class Snapshots(unittest.TestCase):
    def run_bars(self, s, closes):
        for i, c in enumerate(closes):
            s.bar(Bar(i, 0, 0, c, c, c, c))

    def test_issue_18_a_restored_state_continues_like_the_original(self):
        a = Demo(["A"], [("period", "int", 3)])
        self.run_bars(a, [1.0, 2.0, 3.5])
        data = snapshot.dump(a.name, a.state_layout, a.symbols, a.param_values(), a.state())
        self.assertEqual(data[:5], b"SBPY\x01")
        b = Demo(["A"], [("period", "int", 3)])
        b.restore_state(snapshot.load(data, b.name, b.state_layout, b.symbols, b.param_values()))
        self.assertEqual(a.sma[0].update(7.25), b.sma[0].update(7.25))
        # Same state, same bytes.
        again = snapshot.dump(a.name, a.state_layout, a.symbols, a.param_values(), a.state())
        self.assertEqual(again, snapshot.dump(b.name, b.state_layout, b.symbols, b.param_values(), b.state()))

    def test_issue_18_a_layout_or_parameter_change_is_refused_for_a_replay(self):
        a = Demo(["A"], [])
        data = snapshot.dump(a.name, 1, a.symbols, a.param_values(), a.state())
        for args, words in [
            ((a.name, 2, a.symbols, a.param_values()), "layout"),
            (("other", 1, a.symbols, a.param_values()), "strategy"),
            ((a.name, 1, ["B"], a.param_values()), "symbols"),
            ((a.name, 1, a.symbols, {**a.param_values(), "period": 9}), "does not carry over"),
        ]:
            with self.assertRaises(SnapshotError) as caught:
                snapshot.load(data, *args)
            self.assertIn(words, str(caught.exception))
            self.assertIn("replaying history", str(caught.exception))
        with self.assertRaises(SnapshotError):
            snapshot.load(b"SBPY\x02{}", a.name, 1, a.symbols, a.param_values())
        with self.assertRaises(SnapshotError):
            snapshot.load(b"\x00\x01", a.name, 1, a.symbols, a.param_values())


class Errors(unittest.TestCase):
    def test_issue_18_an_exception_names_the_authors_file_and_line(self):
        def on_bar():
            return 1 / 0

        try:
            on_bar()
        except ZeroDivisionError as exc:
            text = errors.describe("on_bar", exc)
        self.assertTrue(text.startswith("on_bar raised ZeroDivisionError: division by zero at test_sdk.py:"), text)
        self.assertIn("in on_bar", text)
        self.assertNotIn("\n", text)


class Example(unittest.TestCase):
    def test_issue_18_sma_cross_py_trades_on_crosses(self):
        import strategy

        s = strategy.SmaCross(["A"], [("fast", "int", 2), ("slow", "int", 3)])
        self.assertEqual(s.warmup_bars(), 3)
        got = []
        qty = 0.0
        for i, c in enumerate([10.0, 10.0, 11.0, 12.0, 9.0, 8.0, 8.0]):
            orders = s.bar(Bar(i, 0, 0, c, c, c, c), sandbar.Position(qty))
            for o in orders:
                qty += o.quantity if o.side == "buy" else -o.quantity
            got.append([o.key() for o in orders])
        self.assertEqual(got[2], [(0, "buy", 1.0, None)])
        self.assertEqual(got[4], [(0, "sell", 1.0, None)])
        self.assertEqual(qty, 0.0)
        with self.assertRaises(ParamError) as caught:
            strategy.SmaCross(["A"], [("fast", "int", 40)])
        self.assertIn("must be smaller than slow", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
