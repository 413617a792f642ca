"""The reference (MXNet's own operators) against an independent numpy implementation and the notes."""
import numpy as np
import pytest
from mxnet import nd

from grader import reference


def numpy_corr2d(X, K, padding=(0, 0), strides=(1, 1)):
    X = np.pad(X, ((padding[0],) * 2, (padding[1],) * 2))
    kh, kw = K.shape
    return np.array([[(X[i:i + kh, j:j + kw] * K).sum() for j in range(0, X.shape[1] - kw + 1, strides[1])]
                     for i in range(0, X.shape[0] - kh + 1, strides[0])])


def test_the_notes_examples():
    X, K = nd.arange(9).reshape((3, 3)), nd.array([[0, 1], [2, 3]])
    assert reference.corr2d(X, K).asnumpy().tolist() == [[19, 25], [37, 43]]
    X2 = nd.array([[[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]]])
    K2 = nd.array([[[0, 1], [2, 3]], [[1, 2], [3, 4]]])
    assert reference.corr2d_multi_in(X2, K2).asnumpy().tolist() == [[56, 72], [104, 120]]
    out = reference.corr2d_multi_in_out(X2, nd.stack(K2, K2 + 1, K2 + 2)).asnumpy()
    assert out.tolist() == [[[56, 72], [104, 120]], [[76, 100], [148, 172]], [[96, 128], [192, 224]]]
    shapes = [reference.conv2d_output_shape((8, 8), k, p, s)
              for k, p, s in [(3, 1, 1), ((5, 3), (2, 1), 1), (3, 1, 2), ((3, 5), (0, 1), (3, 5))]]
    assert shapes == [(8, 8), (8, 8), (4, 4), (2, 2)]


@pytest.mark.parametrize("seed", range(20))
def test_padding_and_strides_agree_with_numpy(seed):
    rng = np.random.default_rng(seed)
    kh, kw = rng.integers(1, 5, size=2)
    ph, pw = rng.integers(0, 4, size=2)
    sh, sw = rng.integers(1, 6, size=2)
    h, w = (int(max(1, k - 2 * p + rng.integers(0, 8))) for k, p in ((kh, ph), (kw, pw)))
    X, K = rng.uniform(-1, 1, (h, w)), rng.uniform(-1, 1, (kh, kw))
    args = dict(padding=(int(ph), int(pw)), strides=(int(sh), int(sw)))
    got = reference.corr2d_pad_stride(nd.array(X, dtype="float64"), nd.array(K, dtype="float64"), **args).asnumpy()
    expected = numpy_corr2d(X, K, args["padding"], args["strides"])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert reference.conv2d_output_shape((h, w), (int(kh), int(kw)), **args) == expected.shape


def test_channels_and_1x1_agree_with_numpy():
    rng = np.random.default_rng(1)
    X, K = rng.uniform(-1, 1, (3, 5, 6)), rng.uniform(-1, 1, (4, 3, 2, 3))
    got = reference.corr2d_multi_in_out(nd.array(X, dtype="float64"), nd.array(K, dtype="float64")).asnumpy()
    expected = np.stack([sum(numpy_corr2d(x, k) for x, k in zip(X, Ko)) for Ko in K])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    K1 = rng.uniform(-1, 1, (4, 3, 1, 1))
    got = reference.corr2d_multi_in_out_1x1(nd.array(X, dtype="float64"), nd.array(K1, dtype="float64")).asnumpy()
    np.testing.assert_allclose(got, np.einsum("oc,chw->ohw", K1[:, :, 0, 0], X), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("padding, strides", [(0, 1), (1, 2), ((2, 0), (1, 3)), (3, (4, 1))])
def test_the_capstone_agrees_with_numpy_per_channel(padding, strides):
    """corr2d_im2col: chapter 5's multi-channel sum with chapter 4's padding (per side) and strides."""
    rng = np.random.default_rng(2)
    X, K = rng.uniform(-1, 1, (3, 6, 7)), rng.uniform(-1, 1, (2, 3, 3, 2))
    pair = lambda v: (v, v) if isinstance(v, int) else v
    expected = np.stack([sum(numpy_corr2d(x, k, pair(padding), pair(strides)) for x, k in zip(X, Ko)) for Ko in K])
    got = reference.corr2d_im2col(nd.array(X, dtype="float64"), nd.array(K, dtype="float64"), padding, strides)
    np.testing.assert_allclose(got.asnumpy(), expected, rtol=1e-12, atol=1e-12)


def test_conv2d_forward_adds_the_bias():
    X, W, b = nd.arange(12).reshape((3, 4)), nd.array([[1, -1]]), nd.array([0.5])
    assert np.allclose(reference.conv2d_forward(X, W, b).asnumpy(), numpy_corr2d(X.asnumpy(), W.asnumpy()) + 0.5)


def test_training_recovers_a_kernel_with_falling_losses():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((10, 10)).astype("float32")
    K_true = np.array([[0.5, -1.0, 0.25]], dtype="float32")
    Y = numpy_corr2d(X, K_true).astype("float32")
    K, losses = reference.train_kernel(nd.array(X), nd.array(Y), (1, 3), num_epochs=40, lr=0.005)
    assert len(losses) == 40 and all(b <= a for a, b in zip(losses, losses[1:]))
    np.testing.assert_allclose(K.asnumpy(), K_true, atol=1e-3)
    assert reference.loss_of_kernel(nd.array(X), nd.array(Y), K) <= losses[-1]


def test_bad_pairs_are_refused_with_a_clear_message():
    with pytest.raises(TypeError, match="padding must be an int or a pair"):
        reference.corr2d_pad_stride(nd.ones((3, 3)), nd.ones((2, 2)), padding=(1, 2, 3))
