"""Errors that mean the user's input is wrong: the CLI prints them on one line and exits 2."""


class InputError(ValueError):
    """Bad input: the message says what is wrong and what was expected, on one line."""


class OracleUnavailable(RuntimeError):
    """An oracle cannot run here (framework not installed, cell not supported); says why."""
