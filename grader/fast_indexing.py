"""Faster basic indexing of MXNet's NDArray, for the students' loops that grading runs.

A student's corr2d reads ``X[i:i + h, j:j + w]`` and writes ``Y[i, j]`` once per output value.
MXNet 1.9 spends about 80 µs of Python on such a read and 70 µs on such a write, against 12 µs for
the multiplication between them: it asks its C library for the array's shape a dozen times per
call and reshapes results to the shape they already have. Those reads and writes are the largest
part of the grader's CPU time.

For the keys these loops use (a tuple with one int or one slice without a step per axis, in
bounds, nothing empty) this module reads the shape once and calls the very operators MXNet calls
(``slice``, ``_slice_assign``, ``_slice_assign_scalar``) with the same arguments, so values,
gradients, views and errors stay what MXNet gives. Every other key, array or value goes to MXNet's
own code. ``tests/test_fast_indexing.py`` compares the two on every such key of small arrays.

Installed in a grading worker before it forks sandboxes (grader/course.py: prepare_worker); the
students' own Jupyter and plain nbgrader run MXNet unchanged.
"""
_originals = {}
_mxnet = {}   # set by install(): MXNet's ndarray module and numeric types, looked up once


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
    element. A contiguous selection is a view sharing the array's memory: MXNet's code makes it."""
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
            if bounds is not None and not _contiguous(bounds, shape):
                sliced = ndarray.op.slice(self, *_as_given(slices))
                if not int_axes:   # MXNet reshapes it to the shape it has
                    return sliced
                kept = [end - begin for axis, (begin, end) in enumerate(bounds) if axis not in int_axes]
                return sliced.reshape(kept or [1])
    return _originals["__getitem__"](self, key)


def _setitem(self, key, value):
    ndarray = _mxnet["ndarray"]
    if type(self) is ndarray.NDArray:
        shape = self.shape
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


def install():
    """Use the faster paths in this process (once; forks inherit them)."""
    from mxnet.base import numeric_types
    from mxnet.ndarray import ndarray
    from mxnet.ndarray.ndarray import NDArray
    if _originals:
        return
    _mxnet.update(ndarray=ndarray, numeric_types=numeric_types)
    _originals["__getitem__"], _originals["__setitem__"] = NDArray.__getitem__, NDArray.__setitem__
    NDArray.__getitem__, NDArray.__setitem__ = _getitem, _setitem


def uninstall():
    """MXNet's own indexing again (for tests)."""
    from mxnet.ndarray.ndarray import NDArray
    if _originals:
        NDArray.__getitem__, NDArray.__setitem__ = _originals.pop("__getitem__"), _originals.pop("__setitem__")
