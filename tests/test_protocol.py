"""The pipe protocol between the grader and a student's process: what a hostile sandbox can send
(half a message, an oversized or absurdly nested one) is rejected in bounded time, never waited
for forever and never allowed to crash the trusted side. Fast: plain pipes, no MXNet."""
import json
import os
import struct
import threading
import time
from contextlib import contextmanager

import numpy as np
import pytest

from grader.engine import protocol
from tests.timing import alarm

LENGTH = struct.Struct("<Q")


@contextmanager
def pipe():
    read_fd, write_fd = os.pipe()
    try:
        yield read_fd, write_fd
    finally:
        for fd in (read_fd, write_fd):
            try:
                os.close(fd)
            except OSError:
                pass


def frame(header):
    return LENGTH.pack(1) + LENGTH.pack(len(header)) + header


def test_a_message_round_trips_with_arrays_tuples_and_a_deadline():
    message = {"a": [1, 2.5, None, "x"], "t": (1, "two"), "array": np.arange(6, dtype=np.float32).reshape(2, 3)}
    with pipe() as (read_fd, write_fd):
        protocol.send(write_fd, message)
        got = protocol.receive(read_fd, deadline=time.monotonic() + 5)
    assert got["a"] == [1, 2.5, None, "x"] and got["t"] == (1, "two")
    assert got["array"].dtype == np.float32 and got["array"].tolist() == [[0, 1, 2], [3, 4, 5]]


def test_half_a_frame_times_out_at_the_deadline():
    with pipe() as (read_fd, write_fd), alarm(10):
        os.write(write_fd, LENGTH.pack(1) + LENGTH.pack(100) + b'{"outputs": [')  # and then nothing
        started = time.monotonic()
        with pytest.raises(protocol.Timeout):
            protocol.receive(read_fd, deadline=started + 0.3)
        assert 0.25 < time.monotonic() - started < 3


def test_the_deadline_is_for_the_whole_message_not_each_read():
    """A sender trickling a byte at a time must not extend the deadline with each byte."""
    with pipe() as (read_fd, write_fd), alarm(10):
        stop = threading.Event()

        def trickle():
            for byte in frame(b'"' + b"x" * 1000 + b'"'):
                if stop.is_set():
                    return
                os.write(write_fd, bytes([byte]))
                time.sleep(0.05)

        threading.Thread(target=trickle, daemon=True).start()
        started = time.monotonic()
        with pytest.raises(protocol.Timeout):
            protocol.receive(read_fd, deadline=started + 0.5)
        stop.set()
        assert time.monotonic() - started < 2


def test_nothing_at_all_times_out_too():
    with pipe() as (read_fd, _), alarm(10):
        with pytest.raises(protocol.Timeout):
            protocol.receive(read_fd, deadline=time.monotonic() + 0.1)


def test_a_closed_pipe_mid_message_is_eof():
    with pipe() as (read_fd, write_fd):
        os.write(write_fd, LENGTH.pack(1) + LENGTH.pack(100) + b"[1,")
        os.close(write_fd)
        with pytest.raises(EOFError):
            protocol.receive(read_fd, deadline=time.monotonic() + 5)


@pytest.mark.parametrize("depth", [65, 200_000])
def test_deep_nesting_is_rejected_cleanly(depth):
    header = b"[" * depth + b"]" * depth
    with pipe() as (read_fd, write_fd):
        thread = threading.Thread(target=os.write, args=(write_fd, frame(header)), daemon=True)
        thread.start()
        with pytest.raises(protocol.ProtocolError, match="nested"):
            protocol.receive(read_fd, deadline=time.monotonic() + 10)
        thread.join()


def test_nesting_within_the_limit_and_brackets_inside_strings_are_fine():
    value = [{"k": [[["[[[[{{{{" * 100]]]}] * 3
    for _ in range(protocol.MAX_DEPTH - 6):
        value = [value]
    with pipe() as (read_fd, write_fd):
        thread = threading.Thread(target=protocol.send, args=(write_fd, value), daemon=True)
        thread.start()
        got = protocol.receive(read_fd, deadline=time.monotonic() + 10)
        thread.join()
    assert got == value


def test_a_string_hiding_brackets_cannot_hide_real_nesting():
    header = b'["\\"[[[", ' + b"[" * 100 + b"]" * 100 + b"]"
    with pipe() as (read_fd, write_fd):
        os.write(write_fd, frame(header))
        with pytest.raises(protocol.ProtocolError, match="nested"):
            protocol.receive(read_fd)


def test_an_oversized_header_is_refused_before_it_is_read():
    with pipe() as (read_fd, write_fd):
        os.write(write_fd, LENGTH.pack(1) + LENGTH.pack(protocol.MAX_HEADER_BYTES + 1))
        with pytest.raises(protocol.ProtocolError, match="too large"):
            protocol.receive(read_fd, deadline=time.monotonic() + 5)


def test_malformed_headers_and_arrays_are_protocol_errors():
    for data in (frame(b"{not json"), LENGTH.pack(0), LENGTH.pack(protocol.MAX_FRAMES + 1),
                 LENGTH.pack(2) + LENGTH.pack(2) + b"{}" + LENGTH.pack(3) + b"abc"):
        with pipe() as (read_fd, write_fd):
            os.write(write_fd, data)
            with pytest.raises(protocol.ProtocolError):
                protocol.receive(read_fd, deadline=time.monotonic() + 5)


def test_sending_to_a_reader_that_stopped_reading_times_out():
    with pipe() as (read_fd, write_fd), alarm(10):
        started = time.monotonic()
        with pytest.raises(protocol.Timeout):
            protocol.send(write_fd, {"source": "x" * (1 << 20)}, deadline=started + 0.3)  # > a pipe's buffer
        assert time.monotonic() - started < 3
        assert os.get_blocking(write_fd)  # left as it was


def test_sending_with_a_deadline_delivers_a_large_message_to_a_reader():
    message = {"source": "y" * (4 << 20)}
    with pipe() as (read_fd, write_fd), alarm(20):
        thread = threading.Thread(target=protocol.send, args=(write_fd, message),
                                  kwargs={"deadline": time.monotonic() + 10}, daemon=True)
        thread.start()
        assert protocol.receive(read_fd, deadline=time.monotonic() + 10) == message
        thread.join()


def _with_array_frame(reference, frame_bytes):
    """A message whose header is {"a": reference} followed by one raw frame."""
    header = json.dumps({"a": reference}).encode()
    return LENGTH.pack(2) + LENGTH.pack(len(header)) + header + LENGTH.pack(len(frame_bytes)) + frame_bytes


def test_arrays_of_every_numeric_dtype_round_trip_writable():
    values = [np.arange(6).astype(dtype).reshape(2, 3) for dtype in
              ("bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
               "float16", "float32", "float64")]
    values += [np.arange(4, dtype=">f8"), np.arange(12, dtype="float32").reshape(3, 4).T,  # big-endian, strided
               np.full((), 2.5, dtype="float32"), np.zeros((0, 3), dtype="float32")]         # 0-d, empty
    with pipe() as (read_fd, write_fd):
        protocol.send(write_fd, {"values": values})
        got = protocol.receive(read_fd, deadline=time.monotonic() + 5)["values"]
    for sent, received in zip(values, got):
        assert received.shape == sent.shape and received.dtype == sent.dtype.newbyteorder("=")
        assert np.array_equal(received, sent)
        received[...] = 0  # the receiver may work on what it got


@pytest.mark.parametrize("reference, frame_bytes, problem", [
    ({"__array__": 0, "dtype": "|O", "shape": [1]}, b"\0" * 8, "numeric"),         # object pointers
    ({"__array__": 0, "dtype": "<U1", "shape": [2]}, b"\0" * 8, "numeric"),
    ({"__array__": 0, "dtype": "[('a', '<f4')]", "shape": [1]}, b"\0" * 4, "numeric"),
    ({"__array__": 0, "dtype": "<f4", "shape": [3]}, b"\0" * 8, "size"),           # shorter than its shape
    ({"__array__": 0, "dtype": "<f4", "shape": [1 << 40, 1 << 40]}, b"\0" * 8, "shape"),
    ({"__array__": 0, "dtype": "<f4", "shape": [-2]}, b"\0" * 8, "shape"),
    ({"__array__": 0, "dtype": "<f4", "shape": "2"}, b"\0" * 8, "shape"),
    ({"__array__": 0, "dtype": "<f4", "shape": [1] * 33}, b"\0" * 4, "shape"),
    ({"__array__": 1, "dtype": "<f4", "shape": [2]}, b"\0" * 8, "reference"),      # no such frame
    ({"__array__": True, "dtype": "<f4", "shape": [2]}, b"\0" * 8, "reference"),
    ({"__array__": 0, "dtype": "<f4", "shape": [2], "x": 1}, b"\0" * 8, "reference"),
    ([{"__array__": 0, "dtype": "<f4", "shape": [2]}] * 2, b"\0" * 8, "reference"),  # one frame used twice
    ("no reference", b"\0" * 8, "does not describe"),                              # a frame left over
])
def test_array_frames_that_do_not_match_their_description_are_rejected(reference, frame_bytes, problem):
    with pipe() as (read_fd, write_fd):
        os.write(write_fd, _with_array_frame(reference, frame_bytes))
        with pytest.raises(protocol.ProtocolError, match=problem):
            protocol.receive(read_fd, deadline=time.monotonic() + 5)
