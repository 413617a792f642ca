"""A bound on tests that could block: the old grader waited forever on half a message."""
import signal
from contextlib import contextmanager


@contextmanager
def alarm(seconds):
    """Fail the test if the block is still running after ``seconds``."""
    def stop(*_):
        raise AssertionError(f"the grader was still waiting after {seconds} s")
    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
