"""Inside the component, the stubbed WASI calls trap with a bare
`unreachable`, which tells an author nothing. The export glue installs these
guards first: the clocks, entropy and file access raise `SandboxError` with
what to use instead, so the error reaches the trap with the author's
file:line like any other exception (`errors.py`). Not installed natively."""

import builtins
import os
import time


class SandboxError(OSError):
    """What the sandbox withholds: no clock, no entropy, no files."""


def _refuse(what, instead):
    def refused(*_args, **_kwargs):
        raise SandboxError(f"{what} is not available in the Sandbar sandbox; {instead}")

    return refused


_CLOCK = "time comes from bars: use bar.ts_ms"


def install():
    for name in (
        "time", "time_ns", "monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns",
        "process_time", "process_time_ns", "localtime", "gmtime", "ctime", "strftime",
    ):
        if hasattr(time, name):
            setattr(time, name, _refuse(f"time.{name}()", _CLOCK))
    os.urandom = _refuse("os.urandom()", "the component has no entropy source")
    os.getrandom = _refuse("os.getrandom()", "the component has no entropy source")
    builtins.open = _refuse("open()", "a strategy has no files: parameters come from the config")
    for name in ("listdir", "scandir", "stat", "open"):
        setattr(os, name, _refuse(f"os.{name}()", "a strategy has no files"))
