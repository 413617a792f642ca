"""Faster basic indexing and reshaping of MXNet's NDArray, for the students' loops grading runs.

A student's corr2d reads ``X[i:i + h, j:j + w]`` and writes ``Y[i, j]`` once per output value.
MXNet 1.9 spends about 80 µs of Python on such a read and 70 µs on such a write, against 12 µs for
the multiplication between them: it asks its C library for the array's shape a dozen times per
call and reshapes results to the shape they already have. Those reads and writes are the largest
part of the grader's CPU time.

For the keys these loops use (a tuple with one int or one slice without a step per axis, in
bounds, nothing empty) this module reads the shape once and calls the very operators MXNet calls
(``slice``, ``_slice_assign``, ``_slice_assign_scalar``) with the same arguments, so values,
gradients, views and errors stay what MXNet gives. ``X[:] = a`` with a numpy array of X's shape
(what ``nd.array`` does) copies it in as MXNet does, and ``reshape`` checks the size on plain
ints rather than with numpy. Every other key, array, value or call goes to MXNet's own code.
``tests/test_fast_indexing.py`` compares the two on every such key of small arrays.

Installed in a grading worker before it forks sandboxes (grader/course.py: prepare_worker); the
students' own Jupyter and plain nbgrader run MXNet unchanged.
"""
import ctypes
import math

import numpy as np

_WHOLE = slice(None)
_originals = {}
_mxnet = {}   # set by install(): MXNet's ndarray module, numeric types and is_recording, looked up once


def _slices(key, shape):
    """The key as one ``slice`` per axis (MXNet's own conversion of an int) and the int axes, or
    None when MXNet's code must handle it: not a tuple of one int or step-less slice of ints per
    axis, an int out of bounds, an empty selection, a zero-size array."""
    if type(key) is not tuple or len(key) != len(shape):
        return None
    slices, int_axes = [], []
    for axis, (index, n) in enumerate(zip(key, shape)):
        if type(index) is int:
            if not -n <= index < n:
                return None
            # MXNet's _int_to_slice: -1 would give the empty slice(-1, 0)
            slices.append(slice(-1, None) if index == -1 else slice(index, index + 1))
            int_axes.append(axis)
        elif type(index) is slice and index.step is None \
                and (index.start is None or type(index.start) is int) \
                and (index.stop is None or type(index.stop) is int):
            slices.append(index)
        else:
            return None
    return slices, int_axes


def _bounds(slices, shape):
    """(begin, end) of each axis, normalized as ``slice.indices`` does, or None if one is empty
    (MXNet handles empty selections itself)."""
    bounds = []
    for index, n in zip(slices, shape):
        begin, end, _ = index.indices(n)
        if end <= begin:
            return None
        bounds.append((begin, end))
    return bounds


def _contiguous(bounds, shape):
    """MXNet's rule (NDArray._basic_indexing_slice_is_contiguous) for step-less, non-empty slices:
    from the last axis back, once an axis takes a proper subset, every axis before it takes one
    element. A contiguous selection is a view sharing the array's memory (_view)."""
    lengths = [end - begin for begin, end in bounds]
    total = 1
    for length in lengths:
        total *= length
    if total == 1:
        return True
    subset = False
    for length, n in zip(reversed(lengths), reversed(shape)):
        if subset:
            if length > 1:
                return False
        elif length < n:
            subset = True
    return True


def _as_given(slices):
    """begin, end and step as MXNet passes them to its operators (``keep_none=True``)."""
    return (tuple(index.start for index in slices), tuple(index.stop for index in slices),
            tuple(index.step for index in slices))


def _getitem(self, key):
    ndarray = _mxnet["ndarray"]
    if type(self) is ndarray.NDArray:
        shape = self.shape
        found = _slices(key, shape)
        if found is not None:
            slices, int_axes = found
            bounds = _bounds(slices, shape)
            # (an int per axis: MXNet indexes axis by axis, leave it to MXNet)
            if bounds is not None and len(int_axes) < len(shape):
                kept = [end - begin for axis, (begin, end) in enumerate(bounds) if axis not in int_axes]
                if _contiguous(bounds, shape):
                    return _view(self, bounds, shape).reshape(kept or [1])
                sliced = ndarray.op.slice(self, *_as_given(slices))
                if not int_axes and not _mxnet["is_recording"]():
                    return sliced   # MXNet reshapes it to the shape it has: a node of the graph, if recorded
                return sliced.reshape(kept or [1])
    return _originals["__getitem__"](self, key)


def _view(array, bounds, shape):
    """MXNet's view of a contiguous selection of ``array`` (of ``shape``): the flat array's range,
    in the selection's shape (NDArray._get_nd_basic_indexing, the same C calls)."""
    ndarray = _mxnet["ndarray"]
    flat_begin = flat_end = 0
    for (begin, end), n in zip(bounds, shape):
        flat_begin, flat_end = flat_begin * n + begin, flat_end * n + end - 1
    handle = ndarray.NDArrayHandle()
    flat = array.reshape(-1)
    if ndarray._int64_enabled():
        ndarray.check_call(ndarray._LIB.MXNDArraySlice64(flat.handle, ctypes.c_int64(flat_begin),
                                                         ctypes.c_int64(flat_end + 1), ctypes.byref(handle)))
    else:
        ndarray.check_call(ndarray._LIB.MXNDArraySlice(flat.handle, ctypes.c_uint32(flat_begin),
                                                       ctypes.c_uint32(flat_end + 1), ctypes.byref(handle)))
    return ndarray.NDArray(handle=handle, writable=array.writable).reshape([end - begin for begin, end in bounds])


def _setitem(self, key, value):
    ndarray = _mxnet["ndarray"]
    if type(self) is ndarray.NDArray:
        shape = self.shape
        if type(key) is slice and key == _WHOLE and type(value) is np.ndarray and value.shape == shape \
                and shape and 0 not in shape:
            # nd.array(a numpy array) does this: MXNet copies the array in as it is
            self._sync_copyfrom(value)
            return
        found = _slices(key, shape)
        bounds = found and _bounds(found[0], shape)
        if bounds is not None:
            slices, int_axes = found
            indexed = tuple(end - begin for begin, end in bounds)
            if indexed != shape:   # MXNet overwrites a whole array by other means
                begin, end, step = _as_given(slices)
                if isinstance(value, _mxnet["numeric_types"]):
                    self.slice_assign_scalar(float(value), begin, end, step)
                    return
                kept = tuple(n for axis, n in enumerate(indexed) if axis not in int_axes) or (1,)
                value = self._prepare_value_nd(value, bcast_shape=kept, squeeze_axes=())
                self.slice_assign(value.reshape(indexed), begin, end, step)
                return
    _originals["__setitem__"](self, key, value)


def _reshape(self, *shape, **kwargs):
    """MXNet's NDArray.reshape for a shape given alone (no keywords), with its size check done on
    plain ints: numpy's prod, twice per call, cost more than the reshape itself."""
    ndarray = _mxnet["ndarray"]
    if type(self) is ndarray.NDArray and not kwargs and shape:
        if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
            shape = shape[0]
        handle = ndarray.NDArrayHandle()
        ndarray.check_call(ndarray._LIB.MXNDArrayReshape64(self.handle, len(shape), ndarray.c_array(
            ctypes.c_int64, shape), False, ctypes.byref(handle)))
        result = ndarray.NDArray(handle=handle, writable=self.writable)
        new, old = result.shape, self.shape
        if type(new) is tuple and type(old) is tuple:
            same_size = math.prod(new) == math.prod(old)
        else:   # an unknown shape (None): MXNet's own comparison
            same_size = np.prod(new) == np.prod(old)
        if not same_size:
            raise ValueError('Cannot reshape array of size {} into shape {}'.format(np.prod(old), shape))
        return result
    return _originals["reshape"](self, *shape, **kwargs)


_FASTER = {"__getitem__": _getitem, "__setitem__": _setitem, "reshape": _reshape}


def install():
    """Use the faster paths in this process (once; forks inherit them)."""
    from mxnet.autograd import is_recording
    from mxnet.base import numeric_types
    from mxnet.ndarray import ndarray
    if _originals:
        return
    _mxnet.update(ndarray=ndarray, numeric_types=numeric_types, is_recording=is_recording)
    for name, faster in _FASTER.items():
        _originals[name] = getattr(ndarray.NDArray, name)
        setattr(ndarray.NDArray, name, faster)


def uninstall():
    """MXNet's own methods again (for tests)."""
    from mxnet.ndarray.ndarray import NDArray
    for name in list(_originals):
        setattr(NDArray, name, _originals.pop(name))
