"""Logging through the contract's only import, `host.log`. Natively (tests),
lines go to `sandbar.log.lines` instead."""

TRACE, DEBUG, INFO, WARN, ERROR = range(5)

lines = []

try:  # inside the component: the contract's import
    from wit_world.imports import host as _host
    from wit_world.imports import types as _types

    _LEVELS = [
        _types.LogLevel.TRACE,
        _types.LogLevel.DEBUG,
        _types.LogLevel.INFO,
        _types.LogLevel.WARN,
        _types.LogLevel.ERROR,
    ]

    def log(level, message):
        _host.log(_LEVELS[level], str(message))

except ImportError:  # natively

    def log(level, message):
        lines.append((level, str(message)))


def trace(message):
    log(TRACE, message)


def debug(message):
    log(DEBUG, message)


def info(message):
    log(INFO, message)


def warn(message):
    log(WARN, message)


def error(message):
    log(ERROR, message)
