"""The errors gradparity raises on purpose, each with a one-line message."""


class InputError(ValueError):
    """Bad input: the message says what is wrong and what was expected, on one line. The CLI
    prints it and exits 2."""


class OracleMisconfigured(InputError):
    """An oracle cannot be set up as asked: its builder does not import, or a user's module
    (``--module``) does not import or does not fit the stock layer it replaces. The other
    oracles still run; the CLI then prints this line and exits 2."""


class OracleUnavailable(RuntimeError):
    """An oracle cannot run here (framework not installed or not loadable, no builder, a case
    its builder refuses); says why. A skip, not a failure."""


class OracleCrashed(RuntimeError):
    """An oracle's worker process died or stopped answering while computing a case: the
    framework failed on it. A failure of that oracle; the others still run."""
