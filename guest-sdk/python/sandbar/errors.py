"""An exception as a Python author can act on it: the innermost frame of the
strategy's own code as file:line, the exception, and the traceback.

With WASI stubbed there is no stderr, so the export wrappers (`_export.py`)
send this one-line text through the contract: as `init`'s or `restore`'s error result,
and as an error line of `host.log` before any other export traps (the host
attaches a call's last error line to the trap it reports)."""

import traceback

# Frames of these files are the SDK's, not the author's.
_SDK_PARTS = ("/sandbar/", "componentize_py", "wit_world")


def _short(filename):
    # The bundle's paths mean little: the SDK's files as sandbar/<file>, the
    # author's by name (relative to the strategy's directory when nested).
    if "/sandbar/" in filename:
        return "sandbar/" + filename.rsplit("/sandbar/", 1)[1]
    for marker in ("/app/", "/sandbar-src/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename.rsplit("/", 1)[-1]


def _frames(exc):
    # Never the source lines: reading them opens the files, and with WASI
    # stubbed an open traps (the exception would be lost in that trap).
    return traceback.StackSummary.extract(
        traceback.walk_tb(exc.__traceback__), lookup_lines=False
    )


def where(exc):
    """`file.py:line in function` of the innermost frame outside the SDK."""
    frames = _frames(exc)
    own = [f for f in frames if not any(p in f.filename for p in _SDK_PARTS)]
    frame = (own or frames or [None])[-1]
    if frame is None:
        return "?"
    return f"{_short(frame.filename)}:{frame.lineno} in {frame.name}"


def describe(export, exc):
    """One line (the host's log keeps a line to one line): the export, the
    exception, where in the author's code, then the whole traceback, most
    recent call last:

        on_bar raised ZeroDivisionError: division by zero at strategy.py:12 in on_bar
        (traceback: sandbar/_export.py:80 in on_bar > strategy.py:12 in on_bar)
    """
    frames = _frames(exc)
    chain = " > ".join(f"{_short(f.filename)}:{f.lineno} in {f.name}" for f in frames)
    message = " ".join(str(exc).split())
    head = f"{export} raised {type(exc).__name__}: {message} at {where(exc)}"
    return f"{head} (traceback: {chain})" if chain else head
