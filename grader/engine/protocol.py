"""Messages between the trusted grader and a student's sandboxed process, over pipes.

A message is a JSON header plus one raw frame per numpy array, which the header describes by
dtype and shape: nothing is ever unpickled or parsed but JSON, sizes and nesting are capped, only
plain numeric dtypes are accepted, and a reader may give the whole message a deadline, so whatever
the student's process writes (half a message, a huge or absurdly nested one) can at worst be
rejected, never executed, trusted or waited for forever. (Raw frames, not .npy: numpy's .npy
reader parses its header with ast.literal_eval, and took most of a small message's time.)
"""
import json
import math
import os
import re
import select
import struct
import time

import numpy as np

MAX_FRAMES = 4096
MAX_BYTES = 64 << 20          # per message
MAX_HEADER_BYTES = 32 << 20   # the JSON part of a message
MAX_DEPTH = 64                # lists and dicts inside one another; json.loads recurses per level
_LENGTH = struct.Struct("<Q")
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
MAX_DIMENSIONS = 32  # numpy's own limit
# The dtypes an array may have: bools, integers and floats, little-endian (or of one byte).
_DTYPES = {np.dtype(name).str: np.dtype(name) for name in
           ("bool", "int8", "uint8", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8", "<f2", "<f4", "<f8")}


class ProtocolError(Exception):
    """The other side sent something that is not a well-formed message."""


class Timeout(ProtocolError):
    """The whole message did not arrive before the reader's deadline."""


def _encode(value, arrays):
    if isinstance(value, np.ndarray):
        if value.dtype.str not in _DTYPES and value.dtype.kind in "biuf":  # big-endian: as little-endian
            value = value.astype(value.dtype.newbyteorder("<"))
        arrays.append(value)
        return {"__array__": len(arrays) - 1, "dtype": value.dtype.str, "shape": list(value.shape)}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, arrays) for v in value]}
    if isinstance(value, list):
        return [_encode(v, arrays) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v, arrays) for k, v in value.items()}
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    return value


def _decode(value, frames, used):
    if isinstance(value, dict):
        if "__array__" in value:
            return _array(value, frames, used)
        if set(value) == {"__tuple__"}:
            return tuple(_decode(v, frames, used) for v in value["__tuple__"])
        return {k: _decode(v, frames, used) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, frames, used) for v in value]
    return value


def _array(reference, frames, used):
    """The array a header's {"__array__": index, "dtype": ..., "shape": [...]} describes, each frame
    used once, its length exactly what dtype and shape need."""
    index, dtype, shape = reference.get("__array__"), reference.get("dtype"), reference.get("shape")
    if set(reference) != {"__array__", "dtype", "shape"} or type(index) is not int \
            or not 0 <= index < len(frames) or index in used:
        raise ProtocolError("bad array reference")
    if not isinstance(dtype, str) or dtype not in _DTYPES:
        raise ProtocolError("only numeric arrays are accepted")
    if not isinstance(shape, list) or len(shape) > MAX_DIMENSIONS \
            or not all(type(n) is int and 0 <= n <= MAX_BYTES for n in shape):
        raise ProtocolError("bad array shape")
    dtype, frame = _DTYPES[dtype], frames[index]
    if math.prod(shape) * dtype.itemsize != len(frame):
        raise ProtocolError("bad array: its size does not match its shape")
    used.add(index)
    return np.frombuffer(frame, dtype).reshape(shape)  # frames are bytearrays: the array is writable


def pack(message):
    arrays = []
    header = json.dumps(_encode(message, arrays), allow_nan=True).encode()
    frames = [header] + [np.ascontiguousarray(a).tobytes() for a in arrays]
    return _LENGTH.pack(len(frames)) + b"".join(_LENGTH.pack(len(f)) + f for f in frames)


def send(fd, message, deadline=None):
    """Write one message to ``fd``; with ``deadline``, Timeout if the other side has not taken it
    all by then (a full pipe whose reader stopped reading would block the writer forever)."""
    data = memoryview(pack(message))
    if deadline is None:
        while data:
            data = data[os.write(fd, data):]
        return
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    blocking = os.get_blocking(fd)
    os.set_blocking(fd, False)
    try:
        while data:
            try:
                data = data[os.write(fd, data):]
                continue
            except BlockingIOError:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Timeout("the other side did not take the message in time")
            poller.poll(max(1, int(remaining * 1000 + 0.999)))
    finally:
        os.set_blocking(fd, blocking)


def _read_exactly(fd, size, budget, deadline):
    if size > budget[0]:
        raise ProtocolError("message too large")
    budget[0] -= size
    data = bytearray(size)
    view, done = memoryview(data), 0
    while done < size:
        if deadline is not None:
            _wait_readable(fd, deadline)
        count = os.readv(fd, [view[done:done + (1 << 20)]])
        if not count:
            raise EOFError("the other side closed the pipe")
        done += count
    return data


def _wait_readable(fd, deadline):
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise Timeout("the message was not complete in time")
        if poller.poll(max(1, int(remaining * 1000 + 0.999))):
            return  # readable, or closed (the read then says so)


def _nesting_depth(header):
    """How deep lists and dicts nest in a JSON text, counted without recursion (json.loads would
    recurse once per level, and a RecursionError is no place to stop a hostile message)."""
    if header.count(b"[") + header.count(b"{") <= MAX_DEPTH:
        return 0  # the usual case, seen at C speed: too few brackets to nest too deep
    structure = np.frombuffer(_JSON_STRING.sub(b'""', header), dtype=np.uint8)  # brackets in strings do not count
    opens = (structure == ord("[")) | (structure == ord("{"))
    closes = (structure == ord("]")) | (structure == ord("}"))
    return int(np.cumsum(opens.astype(np.int64) - closes).max(initial=0))


def receive(fd, max_bytes=MAX_BYTES, deadline=None):
    """One message from ``fd``; ProtocolError if it is malformed, EOFError if the pipe closed.

    ``deadline`` (a time.monotonic() value) bounds the whole message, the wait for its first byte
    included: Timeout (a ProtocolError) if it is not complete by then."""
    budget = [max_bytes]
    (count,) = _LENGTH.unpack(_read_exactly(fd, _LENGTH.size, budget, deadline))
    if not 1 <= count <= MAX_FRAMES:
        raise ProtocolError("bad frame count")
    frames = []
    for index in range(count):
        (size,) = _LENGTH.unpack(_read_exactly(fd, _LENGTH.size, budget, deadline))
        if index == 0 and size > MAX_HEADER_BYTES:
            raise ProtocolError("header too large")
        frames.append(_read_exactly(fd, size, budget, deadline))
    if _nesting_depth(frames[0]) > MAX_DEPTH:
        raise ProtocolError(f"nested more than {MAX_DEPTH} levels deep")
    try:
        header = json.loads(frames[0])
    except (ValueError, RecursionError):  # RecursionError only as a last resort: see _nesting_depth
        raise ProtocolError("bad header") from None
    used = set()
    message = _decode(header, frames[1:], used)
    if len(used) != count - 1:
        raise ProtocolError("an array frame the header does not describe")
    return message
