"""Messages between the trusted grader and a student's sandboxed process, over pipes.

A message is JSON plus numpy arrays in .npy format: nothing is ever unpickled, sizes are capped,
and only numeric arrays are accepted, so whatever the student's process writes can at worst be
rejected, never executed or trusted.
"""
import io
import json
import os
import struct

import numpy as np

MAX_FRAMES = 4096
MAX_BYTES = 64 << 20      # per message
_LENGTH = struct.Struct("<Q")


class ProtocolError(Exception):
    """The other side sent something that is not a well-formed message."""


def _encode(value, arrays):
    if isinstance(value, np.ndarray):
        arrays.append(value)
        return {"__array__": len(arrays) - 1}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, arrays) for v in value]}
    if isinstance(value, list):
        return [_encode(v, arrays) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v, arrays) for k, v in value.items()}
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    return value


def _decode(value, arrays):
    if isinstance(value, dict):
        if set(value) == {"__array__"}:
            index = value["__array__"]
            if not isinstance(index, int) or not 0 <= index < len(arrays):
                raise ProtocolError("bad array reference")
            return arrays[index]
        if set(value) == {"__tuple__"}:
            return tuple(_decode(v, arrays) for v in value["__tuple__"])
        return {k: _decode(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    return value


def _npy(array):
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def pack(message):
    arrays = []
    header = json.dumps(_encode(message, arrays), allow_nan=True).encode()
    frames = [header] + [_npy(a) for a in arrays]
    return _LENGTH.pack(len(frames)) + b"".join(_LENGTH.pack(len(f)) + f for f in frames)


def send(fd, message):
    data = memoryview(pack(message))
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _read_exactly(fd, size, budget):
    if size > budget[0]:
        raise ProtocolError("message too large")
    budget[0] -= size
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the pipe")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _load_array(data):
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as error:  # a malformed .npy: reject it, whatever it was
        raise ProtocolError(f"bad array: {type(error).__name__}") from None
    if type(array) is not np.ndarray or array.dtype.kind not in "biuf":
        raise ProtocolError("only numeric arrays are accepted")
    return array


def receive(fd, max_bytes=MAX_BYTES):
    """One message from ``fd``; ProtocolError if it is malformed, EOFError if the pipe closed."""
    budget = [max_bytes]
    (count,) = _LENGTH.unpack(_read_exactly(fd, _LENGTH.size, budget))
    if not 1 <= count <= MAX_FRAMES:
        raise ProtocolError("bad frame count")
    frames = []
    for _ in range(count):
        (size,) = _LENGTH.unpack(_read_exactly(fd, _LENGTH.size, budget))
        frames.append(_read_exactly(fd, size, budget))
    try:
        header = json.loads(frames[0])
    except ValueError:
        raise ProtocolError("bad header") from None
    return _decode(header, [_load_array(f) for f in frames[1:]])
