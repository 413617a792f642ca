"""The grader's faster NDArray indexing and reshaping (grader/fast_indexing.py) give what MXNet's own
code gives: the same values, shapes and dtypes, the same sharing of memory (a view or a copy) and
writability, the same gradients and the same errors, on every key of small arrays (a fixed sample
of them for the larger ones), including the keys left to MXNet. The comparisons check that the
faster paths, not only MXNet's, were exercised."""
import itertools

import numpy as np
import pytest

mx = pytest.importorskip("mxnet")
from mxnet import autograd, nd  # noqa: E402

from grader import fast_indexing  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def installed():
    fast_indexing.install()
    yield
    fast_indexing.uninstall()


def mxnet_getitem(array, key):
    return fast_indexing._originals["__getitem__"](array, key)


def mxnet_setitem(array, key, value):
    fast_indexing._originals["__setitem__"](array, key, value)


def axis_choices(n, steps=(None,)):
    """Every int, in bounds or one beyond, and every slice with bounds from one beyond each end."""
    ends = [None] + list(range(-n - 1, n + 2))
    return list(range(-n - 1, n + 1)) + [slice(a, b, s) for a in ends for b in ends for s in steps]


def keys_of(shape, steps=(None,), sample=None):
    """Every key of an array of ``shape``, or a fixed sample of ``sample`` of them."""
    keys = list(itertools.product(*(axis_choices(n, steps) for n in shape)))
    if sample and sample < len(keys):
        keys = [keys[i] for i in np.random.default_rng(0).choice(len(keys), sample, replace=False)]
    return keys


def outcome(function):
    """(result or None, the error's type and message or None)."""
    try:
        return function(), None
    except Exception as error:  # compared below: the same error either way
        return None, (type(error), str(error).splitlines()[0] if str(error) else "")


def same_array(mine, theirs):
    assert type(mine) is type(theirs)
    assert mine.shape == theirs.shape and mine.dtype == theirs.dtype
    np.testing.assert_array_equal(mine.asnumpy(), theirs.asnumpy())


def shares_memory(array, view):
    """Does writing into ``view`` change ``array``? (Then restores both.)"""
    before = array.asnumpy().copy()
    if view.size == 0:
        return False
    saved = view.asnumpy().copy()
    view[:] = -7
    changed = not np.array_equal(array.asnumpy(), before)
    view[:] = nd.array(saved, dtype=view.dtype)
    array[:] = nd.array(before, dtype=array.dtype)
    return changed


def test_the_faster_paths_are_installed():
    assert nd.NDArray.__getitem__ is fast_indexing._getitem
    assert nd.NDArray.__setitem__ is fast_indexing._setitem
    assert nd.NDArray.reshape is fast_indexing._reshape


def test_reshaping_gives_what_mxnet_gives():
    mxnet_reshape = fast_indexing._originals["reshape"]
    X = nd.array(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    shapes = [((24,),), ((4, 6),), ([3, 8],), (6, 4), ((-1,),), ((0, -1),), ((-2,),), ((-3, 4),),
              ((-4, 1, 2, -2),), ((2, -1, 2),), ((5, 5),), ((7,),), ((25,),), ((0, 0, 0, 0),), ((),),
              ((2.0, 12),), (([2, 3], 4),), ((np.int64(4), 6),)]
    for args in shapes:
        mine, my_error = outcome(lambda: X.reshape(*args))
        theirs, their_error = outcome(lambda: mxnet_reshape(X, *args))
        assert my_error == their_error, args
        if theirs is not None:
            same_array(mine, theirs)
            assert shares_memory(X, mine) and shares_memory(X, theirs)
    for kwargs in ({"shape": (4, 6)}, {"shape": (4, 6), "reverse": True}, {"bad": 1}):
        mine, my_error = outcome(lambda: X.reshape(**kwargs))
        theirs, their_error = outcome(lambda: mxnet_reshape(X, **kwargs))
        assert my_error == their_error and (theirs is None or mine.shape == theirs.shape)
    assert nd.ones((1,)).reshape(()).shape == mxnet_reshape(nd.ones((1,)), ()).shape
    read_only = mxnet_reshape(X, (24,))
    read_only.writable = False
    assert read_only.reshape((4, 6)).writable is mxnet_reshape(read_only, (4, 6)).writable is False


def test_copying_a_numpy_array_in_gives_what_mxnet_gives():
    for dtype in ("float32", "float64", "int32"):
        for value in (np.arange(6.0).reshape(2, 3) / 7, np.arange(6).reshape(2, 3), np.ones((1, 3)),
                      np.ones((3, 2)), np.float64(4.5), np.ones((2, 3), dtype=np.float16)):
            mine, theirs = nd.zeros((2, 3), dtype=dtype), nd.zeros((2, 3), dtype=dtype)
            _, my_error = outcome(lambda: mine.__setitem__(slice(None), value))
            _, their_error = outcome(lambda: mxnet_setitem(theirs, slice(None), value))
            assert my_error == their_error
            same_array(mine, theirs)
    X = nd.array(np.arange(6.0).reshape(2, 3))   # nd.array goes through it
    assert X.dtype == np.float32 and X.asnumpy().tolist() == [[0, 1, 2], [3, 4, 5]]


@pytest.mark.parametrize("shape, sample", [((4,), None), ((4, 3), 2000), ((2, 3, 2), 2000)])
def test_reading_any_key_gives_what_mxnet_gives(shape, sample):
    X = nd.array(np.arange(np.prod(shape)).reshape(shape) + 1.5)
    read_only = fast_indexing._originals["reshape"](X, shape)
    read_only.writable = False
    keys = keys_of(shape, sample=sample)
    views = copies = 0
    for key in keys:
        mine, my_error = outcome(lambda: X[key])
        theirs, their_error = outcome(lambda: mxnet_getitem(X, key))
        assert my_error == their_error, key
        if theirs is not None:
            same_array(mine, theirs)
            shared = shares_memory(X, theirs)
            assert shares_memory(X, mine) == shared, key
            assert read_only[key].writable == mxnet_getitem(read_only, key).writable, key
        found = fast_indexing._slices(key, shape)
        bounds = found and fast_indexing._bounds(found[0], shape)
        if bounds and len(found[1]) < len(shape):   # the faster path took it
            views += shared
            copies += not shared
    assert views >= 50   # the comparison covered the faster paths, not only MXNet's
    if len(shape) > 1:   # (on one axis every selection is contiguous: a view)
        assert copies >= 50


def test_mxnet_own_contiguity_rule_is_the_one_used():
    from mxnet.ndarray.ndarray import NDArray
    for shape in [(4,), (4, 3), (3, 1, 4)]:
        for key in keys_of(shape):
            found = fast_indexing._slices(key, shape)
            bounds = found and fast_indexing._bounds(found[0], shape)
            if bounds:
                assert fast_indexing._contiguous(bounds, shape) == \
                    NDArray._basic_indexing_slice_is_contiguous(tuple(found[0]), shape), key


@pytest.mark.parametrize("shape, sample", [((4,), None), ((4, 3), 700)])
def test_writing_any_key_gives_what_mxnet_gives(shape, sample):
    start = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    values = [2.5, True, nd.array([9.0]), nd.array([[4.0], [5.0]]), nd.array([1, 2, 3], dtype="float64"),
              np.array([5.0]), "text"]
    fast_ones = 0
    for key in keys_of(shape, sample=sample):
        found = fast_indexing._slices(key, shape)
        bounds = found and fast_indexing._bounds(found[0], shape)
        fast_ones += bool(bounds and tuple(end - begin for begin, end in bounds) != shape)
        for value in values:
            mine, theirs = nd.array(start), nd.array(start)
            _, my_error = outcome(lambda: mine.__setitem__(key, value))
            _, their_error = outcome(lambda: mxnet_setitem(theirs, key, value))
            assert my_error == their_error, (key, value)
            same_array(mine, theirs)
    assert fast_ones >= 50


def test_an_integer_array_takes_a_scalar_and_a_view_writes_through():
    Y = nd.zeros((3, 4), dtype="int32")
    Y[1:3, 0:2] = 7.9
    expected = np.zeros((3, 4), dtype=np.int32)
    expected[1:3, 0:2] = 7
    np.testing.assert_array_equal(Y.asnumpy(), expected)
    row = Y[1:2, :]   # contiguous: a view
    row[:] = 1
    assert Y.asnumpy()[1].tolist() == [1, 1, 1, 1]


def test_gradients_through_reads_and_writes_are_mxnet_own():
    def loss_and_grad(read):
        X = nd.array(np.arange(20, dtype=np.float32).reshape(4, 5) / 10)
        K = nd.array([[1.0, -1.0], [0.5, 2.0]])
        K.attach_grad()
        with autograd.record():   # (MXNet refuses writes into arrays while recording)
            loss = nd.add_n(*[((read(X, (slice(i, i + 2), slice(j, j + 2))) * K).sum() ** 2)
                              for i in range(3) for j in range(4)])
        loss.backward()
        return loss.asscalar(), K.grad.asnumpy()

    mine = loss_and_grad(lambda X, key: X[key])
    theirs = loss_and_grad(mxnet_getitem)
    assert mine[0] == theirs[0]
    np.testing.assert_array_equal(mine[1], theirs[1])
    assert np.abs(mine[1]).sum() > 0


def test_reads_record_the_graph_mxnet_records():
    """While autograd records, the faster read keeps MXNet's reshapes: the same nodes in the graph."""
    import json

    def recorded_ops(read, key):
        X = nd.array(np.arange(12, dtype=np.float32).reshape(3, 4))
        X.attach_grad()
        with autograd.record():
            y = read(X, key)
        return [node["op"] for node in json.loads(autograd.get_symbol(y).tojson())["nodes"]]

    for key in [(slice(0, 2), slice(0, 2)), (1, slice(0, 3)), (slice(0, 2), 1), (slice(1, 2), slice(None))]:
        assert recorded_ops(lambda X, k: X[k], key) == recorded_ops(mxnet_getitem, key), key


def test_subclasses_and_numpy_arrays_keep_their_own_indexing():
    from mxnet import np as mxnp, npx
    npx.set_np()
    try:
        a = mxnp.arange(12).reshape(3, 4)
        assert a[0:2, 1:3].shape == (2, 2)
    finally:
        npx.reset_np()
    assert fast_indexing._slices((True, slice(0, 1)), (2, 2)) is None   # a bool is not an int
    assert fast_indexing._slices((np.int64(1), slice(0, 1)), (2, 2)) is None
    assert fast_indexing._slices((slice(0, 2, 1), slice(0, 1)), (2, 2)) is None
