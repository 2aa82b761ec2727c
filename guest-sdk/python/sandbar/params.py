"""Typed strategy parameters: declared on the class with `param(default, description)`.

The kind of a parameter is the type of its default (int, float, bool, str), as
the contract's `param-kind`. Errors say how to fix them, in the same words as
the Rust SDK's `params!` (`ParamError`).
"""

INT, FLOAT, BOOLEAN, TEXT = "int", "float", "boolean", "text"

_KIND_NAME = {INT: "an integer", FLOAT: "a number", BOOLEAN: "true or false", TEXT: "a string"}


class ParamError(Exception):
    """A parameter the strategy refuses; its text is what `init` returns."""


class Param:
    """One declared parameter (see `param`)."""

    def __init__(self, default, description=""):
        if isinstance(default, bool):
            self.kind = BOOLEAN
        elif isinstance(default, int):
            self.kind = INT
        elif isinstance(default, float):
            self.kind = FLOAT
        elif isinstance(default, str):
            self.kind = TEXT
        else:
            raise TypeError(
                f"a parameter's default must be an int, float, bool or str, not {type(default).__name__}"
            )
        self.default = default
        self.description = description
        self.name = None  # set by Strategy.__init_subclass__

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        return obj.__dict__.get(self.name, self.default)

    def __set__(self, obj, value):
        obj.__dict__[self.name] = value

    def accept(self, kind, value):
        """The value of `kind` ("int", "float", "boolean", "text") as this
        parameter's type, or a ParamError saying what to write instead."""
        if kind == self.kind:
            return value
        if self.kind == FLOAT and kind == INT:
            return float(value)
        raise ParamError(
            f"parameter `{self.name}` must be {_KIND_NAME[self.kind]}, got {_describe(kind, value)}"
            f"; for example {self.name} = {_toml(self.default)}"
        )


def param(default, description=""):
    """Declares a parameter on a Strategy class: `fast = param(10, "Lookback, in bars.")`."""
    return Param(default, description)


def _describe(kind, value):
    if kind == INT:
        return f"the integer {value}"
    if kind == FLOAT:
        return f"the number {value!r}"
    if kind == BOOLEAN:
        return f"the boolean {'true' if value else 'false'}"
    return f'the string "{value}"'


def _toml(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def closest(name, known):
    """The known name nearest to `name` (Damerau-Levenshtein distance at
    most max(2, len/3), as the Rust SDK's "did you mean"), or None."""
    best, best_distance = None, None
    for k in known:
        d = _distance(name, k)
        if d <= max(2, len(k) // 3) and (best_distance is None or d < best_distance):
            best, best_distance = k, d
    return best


def _distance(a, b):
    # Optimal string alignment distance (adjacent transpositions count 1).
    rows = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        rows[i][0] = i
    for j in range(len(b) + 1):
        rows[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[len(a)][len(b)]


def unknown(name, known):
    """The error for a parameter the strategy does not declare."""
    best = closest(name, known)
    if best is not None:
        return ParamError(f"unknown parameter `{name}`; did you mean `{best}`?")
    if not known:
        return ParamError(f"unknown parameter `{name}`; this strategy takes no parameters")
    return ParamError(f"unknown parameter `{name}`; known parameters: {', '.join(known)}")


def duplicate(name):
    return ParamError(f"parameter `{name}` is given twice; keep one")


def invalid(name, reason):
    """A value of the right type that the strategy does not accept:
    `invalid("fast", "must be at least 1 (got 0); the default is 10")`."""
    return ParamError(f"parameter `{name}`: {reason}")
