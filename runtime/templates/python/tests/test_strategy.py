"""Native tests of the strategy: plain Python, no Wasm (python3 -m unittest)."""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, "{{sdk}}")

import sandbar  # noqa: E402
import strategy  # noqa: E402


class StrategyTest(unittest.TestCase):
    def test_it_buys_when_the_fast_average_crosses_above(self):
        s = strategy.SmaCross(["A"], [("fast", "int", 2), ("slow", "int", 3)])
        orders = [s.bar(sandbar.Bar(i, 0, 0, c, c, c, c)) for i, c in enumerate([10.0, 10.0, 11.0])]
        self.assertEqual([o.key() for o in orders[2]], [(0, "buy", 1.0, None)])

    def test_bad_parameters_say_how_to_fix_them(self):
        with self.assertRaises(sandbar.ParamError) as caught:
            strategy.SmaCross(["A"], [("fsat", "int", 2)])
        self.assertIn("did you mean `fast`", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
