"""Reference implementation of every exercise, built on MXNet's own operators.

Hidden tests compare a student's answer with these functions, so they are written
independently of the course's solutions: ``nd.Convolution`` for every cross-correlation,
``gluon.nn.Conv2D`` with ``autograd`` for training.  They take and return NDArrays with
the same shapes as the exercises (see the exercise table in README.md).
"""
import mxnet as mx
from mxnet import autograd, gluon, nd


def _pair(value, name):
    """An int or a pair of ints, as Gluon accepts for kernel_size, padding and strides."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int or a pair of ints, not {value!r}")
    if isinstance(value, int):
        return (value, value)
    pair = tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair):
        raise TypeError(f"{name} must be an int or a pair of ints, not {value!r}")
    return pair


def _convolution(X4, K4, padding=0, strides=1):
    """nd.Convolution of a (1, c_i, h, w) input with a (c_o, c_i, kh, kw) kernel, no bias."""
    return nd.Convolution(
        X4, K4.astype(X4.dtype), no_bias=True,
        kernel=K4.shape[2:], num_filter=K4.shape[0],
        pad=_pair(padding, "padding"), stride=_pair(strides, "strides"))


def corr2d(X, K):
    """Chapter 1: 2-D cross-correlation of X (h, w) with K (kh, kw)."""
    return _convolution(X.reshape((1, 1) + X.shape), K.reshape((1, 1) + K.shape))[0, 0]


def conv2d_forward(X, weight, bias):
    """Chapter 2: what ``Conv2D.forward`` returns for parameters ``weight`` (kh, kw) and ``bias`` (1,)."""
    return corr2d(X, weight) + bias.astype(X.dtype)


def conv2d_output_shape(input_shape, kernel_size, padding=0, strides=1):
    """Chapter 4: output (h, w), read off the shape of a real nd.Convolution on zeros."""
    h, w = input_shape
    kh, kw = _pair(kernel_size, "kernel_size")
    out = _convolution(nd.zeros((1, 1, h, w)), nd.zeros((1, 1, kh, kw)), padding, strides)
    return tuple(int(n) for n in out.shape[2:])


def corr2d_pad_stride(X, K, padding=0, strides=1):
    """Chapter 4: cross-correlation with zero padding on each side and strides."""
    return _convolution(X.reshape((1, 1) + X.shape), K.reshape((1, 1) + K.shape), padding, strides)[0, 0]


def corr2d_multi_in(X, K):
    """Chapter 5: X (c_i, h, w), K (c_i, kh, kw); the channels' cross-correlations summed."""
    return _convolution(X.expand_dims(0), K.expand_dims(0))[0, 0]


def corr2d_multi_in_out(X, K):
    """Chapter 5: X (c_i, h, w), K (c_o, c_i, kh, kw); one output channel per kernel."""
    return _convolution(X.expand_dims(0), K)[0]


def corr2d_multi_in_out_1x1(X, K):
    """Chapter 6: the same with a (c_o, c_i, 1, 1) kernel."""
    return corr2d_multi_in_out(X, K)


def corr2d_im2col(X, K, padding=0, strides=1):
    """Chapter 6, the capstone: X (c_i, h, w) with K (c_o, c_i, kh, kw), zero padding per side and
    strides as in chapter 4 (an int or a pair each): (c_o, h', w')."""
    return _convolution(X.expand_dims(0), K, padding, strides)[0]


def loss_of_kernel(X, Y, K):
    """Chapter 3: the summed squared error of kernel K on data (X, Y), as a float."""
    return float(((corr2d(X, K) - Y) ** 2).sum().asscalar())


def train_kernel(X, Y, kernel_size, num_epochs=10, lr=3e-2, seed=0):
    """Chapter 3: learn K with Y ~ corr2d(X, K) by gradient descent on the summed squared error.

    Uses Gluon's own Conv2D layer (no bias) and autograd. Returns (K, losses) like the exercise;
    ``losses[i]`` is the loss before the update of epoch i.
    """
    mx.random.seed(seed)
    layer = gluon.nn.Conv2D(1, kernel_size=kernel_size, use_bias=False)
    layer.initialize()
    X4 = X.astype("float32").reshape((1, 1) + X.shape)
    Y4 = Y.astype("float32").reshape((1, 1) + Y.shape)
    losses = []
    for _ in range(num_epochs):
        with autograd.record():
            loss = ((layer(X4) - Y4) ** 2).sum()
        loss.backward()
        layer.weight.data()[:] -= lr * layer.weight.grad()
        losses.append(float(loss.asscalar()))
    return layer.weight.data().reshape(tuple(kernel_size)), losses
