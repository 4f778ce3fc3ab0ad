"""Running a framework in a worker process of its own.

Frameworks do not always coexist: importing paddle after tensorflow segfaults, and Keras picks
its backend once per process. And a framework that crashes must not take the run down. So each
framework oracle (``Framework.isolated``) runs in a worker process started on first use and
kept for the life of the parent: ``python -m gradparity.worker NAME``, which pins its own
threads before anything loads.

Protocol: length-prefixed pickles over the worker's stdin and a private copy of its stdout
(the worker points its own file descriptor 1 at its stderr, so what a framework prints cannot
corrupt the channel); the worker's stderr goes to a temporary file, whose last lines a crash
report quotes. Each request gets ``("ok", result)`` or ``("error", exception)``. A worker that
dies while loading its framework makes the framework unavailable in this process (a skip with
the reason); one that dies during a request raises ``OracleCrashed`` and is restarted for the
next request.
"""

from __future__ import annotations

import atexit
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from typing import IO, Any

from gradparity.core.errors import OracleCrashed, OracleUnavailable

TIMEOUT_ENV = "GRADPARITY_WORKER_TIMEOUT"
_HEADER = struct.Struct("!Q")


def send(stream: IO[bytes], message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def receive(stream: IO[bytes]) -> Any:
    """The next message, or EOFError if the other side is gone."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "did not answer"
    if code < 0:
        try:
            return f"died of signal {signal.Signals(-code).name}"
        except ValueError:
            return f"died of signal {-code}"
    return f"exited with status {code}"


class Worker:
    """The parent's handle on one framework's worker process."""

    def __init__(self, name: str, environment: Mapping[str, str]):
        self.name = name
        self.environment = dict(environment)
        self.process: subprocess.Popen | None = None
        self.log: IO[bytes] | None = None
        self.unavailable: str | None = None  # why the framework cannot load here
        self._loading = False  # "ready" was sent and its answer not read yet

    def _start(self) -> None:
        self.log = tempfile.TemporaryFile(prefix=f"gradparity-{self.name}-")
        env = {**os.environ, **self.environment}
        paths = [p for p in sys.path if p and os.path.isdir(p)]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gradparity.worker", self.name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=env,
        )

    def stderr_tail(self, lines: int = 8) -> str:
        if self.log is None:
            return ""
        self.log.seek(0)
        text = self.log.read().decode(errors="replace").strip().splitlines()
        return " | ".join(line.strip() for line in text[-lines:])

    def _answer(self, timeout: float) -> Any:
        assert self.process is not None and self.process.stdout
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            self.process.kill()
            raise EOFError
        return receive(self.process.stdout)

    def start(self) -> None:
        """Start the worker and let it load its framework, without waiting for it: workers
        asked for together load their frameworks side by side."""
        if self.unavailable or (self.process is not None and self.process.poll() is None):
            return
        self._start()
        assert self.process is not None and self.process.stdin
        try:
            send(self.process.stdin, ("ready",))
        except (BrokenPipeError, OSError):
            pass  # the first answer will tell
        self._loading = True

    def _loaded(self, timeout: float) -> None:
        """Wait for the answer to ``("ready",)``: the framework loaded, or why it did not."""
        self._loading = False
        try:
            status, answer = self._answer(timeout)
        except (EOFError, BrokenPipeError, OSError):
            self.unavailable = self._died("loading its framework")
            self.stop()
            raise OracleUnavailable(self.unavailable) from None
        if status == "error":
            self.unavailable = f"{self.name} could not load: {answer}"
            self.stop()
            raise OracleUnavailable(self.unavailable)

    def call(self, request: tuple, what: str) -> Any:
        """The worker's answer to ``request``; ``what`` describes it for error messages."""
        if self.unavailable:
            raise OracleUnavailable(self.unavailable)
        timeout = float(os.environ.get(TIMEOUT_ENV, "900"))
        self.start()
        if self._loading:
            self._loaded(timeout)
        assert self.process is not None and self.process.stdin
        try:
            send(self.process.stdin, request)
            status, answer = self._answer(timeout)
        except (EOFError, BrokenPipeError, OSError):
            message = self._died(what)
            self.stop()
            raise OracleCrashed(message) from None
        if status == "error":
            raise answer
        return answer

    def _died(self, what: str) -> str:
        assert self.process is not None
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        tail = self.stderr_tail()
        return f"the {self.name} worker {_describe_exit(code)} while {what}" + (
            f"; its last output: {tail}" if tail else ""
        )

    def hang_up(self) -> None:
        """Close the worker's requests: it exits at the end of the one it is answering."""
        if self.process is not None and self.process.poll() is None and self.process.stdin:
            try:
                self.process.stdin.close()
            except OSError:
                self.process.kill()

    def stop(self) -> None:
        self.hang_up()
        if self.process is not None:
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        if self.log is not None:
            self.log.close()
            self.log = None


_workers: dict[str, Worker] = {}


def worker(name: str, environment: Mapping[str, str]) -> Worker:
    if name not in _workers:
        _workers[name] = Worker(name, environment)
    return _workers[name]


@atexit.register
def _stop_all() -> None:
    """Hang up on every worker before waiting for any, so that they exit side by side."""
    for handle in _workers.values():
        handle.hang_up()
    for handle in _workers.values():
        handle.stop()


def serve(handle: Any) -> None:
    """The worker's loop: ``handle(request) -> result`` for each request until EOF."""
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # what the framework prints goes to the log, never into the channel
    sys.stdout = sys.stderr
    requests = os.fdopen(0, "rb")
    while True:
        try:
            request = receive(requests)
        except EOFError:
            return
        try:
            answer = ("ok", handle(request))
        except Exception as error:  # returned to the parent, which raises it there
            answer = ("error", _portable(error))
        send(channel, answer)


def _portable(error: Exception) -> Exception:
    """``error`` if it survives pickling, else a RuntimeError with its type and message."""
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
