"""Known answers to the exercises, to show that the graded checks tell right from wrong.

Two catalogues of notebook-cell sources, each defining an exercise under the name a student
uses:

* ``WRONG``: real mistakes. Each must fail at least one check of its exercise, with a first
  failure message that matches ``expect`` (so the feedback points at the mistake), and must
  cost nothing on the other exercises of its chapter.
* ``RIGHT``: correct answers written differently from the notes (vectorised, numpy inside,
  FFT, float64, other initialisations; none takes its cross-correlation
  ready-made, which breaks the exercise's rule, grader/rules.py). Each must keep full marks.

``tests/test_known_answers.py`` holds both to that; ``points_table`` turns it into the
table of the README. A source runs like a notebook cell, in a namespace made by
``namespace_for``: ``np``, ``mx``, ``nd``, ``autograd``, ``gluon``, ``nn`` and (from chapter 2
on, as the notebooks give it) the working ``corr2d``, then the right answers of the chapter's
other exercises, so that answers call each other as in a notebook.
"""
import textwrap
from dataclasses import dataclass
from typing import Optional

# The exercises of each chapter's notebook, in the order the notebook defines them.
CHAPTERS = {
    1: ("corr2d",),
    2: ("Conv2D",),
    3: ("train_kernel",),
    4: ("conv2d_output_shape", "corr2d_pad_stride"),
    5: ("corr2d_multi_in", "corr2d_multi_in_out"),
    6: ("corr2d_multi_in_out_1x1", "corr2d_im2col"),
}
EXERCISES = tuple(name for names in CHAPTERS.values() for name in names)

# The submission identity the catalogue is graded as (its cases are reproducible from it).
STUDENT = "catalogue-test"
ASSIGNMENT = "catalogue"


@dataclass(frozen=True)
class Answer:
    name: str                      # short slug, unique over both catalogues
    exercise: str
    description: str               # the mistake (WRONG) or what differs from the notes (RIGHT)
    source: str
    expect: Optional[str] = None   # WRONG only: a regex the first failure message must match


def _answer(name, exercise, description, source, expect=None):
    return Answer(name, exercise, description, textwrap.dedent(source).strip() + "\n", expect)


def chapter_of(exercise):
    return next(n for n, names in CHAPTERS.items() if exercise in names)


# Messages of compare.py, as regexes.
_SHAPE = r"has shape \(\d+(, \d+)*\); expected \(\d+(, \d+)*\)"
_VALUES = r"differs from the expected one at position"

# ==================================================================== right answers

RIGHT = [
    # ---------------------------------------------------------------- corr2d
    _answer("corr2d.notes", "corr2d", "the loops of the notes", """
        def corr2d(X, K):
            h, w = K.shape
            Y = nd.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
            for i in range(Y.shape[0]):
                for j in range(Y.shape[1]):
                    Y[i, j] = (X[i: i + h, j: j + w] * K).sum()
            return Y
    """),
    _answer("corr2d.shifted_slices", "corr2d", "vectorised: a sum of shifted slices, looping over the kernel", """
        def corr2d(X, K):
            kh, kw = K.shape
            oh, ow = X.shape[0] - kh + 1, X.shape[1] - kw + 1
            Y = nd.zeros((oh, ow), dtype=X.dtype)
            for a in range(kh):
                for b in range(kw):
                    Y = Y + K[a, b].asscalar() * X[a:a + oh, b:b + ow]
            return Y
    """),
    _answer("corr2d.numpy_inside", "corr2d", "computed in numpy (asnumpy, then nd.array back)", """
        def corr2d(X, K):
            x, k = X.asnumpy(), K.asnumpy()
            kh, kw = k.shape
            out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1), dtype=x.dtype)
            for i in range(out.shape[0]):
                for j in range(out.shape[1]):
                    out[i, j] = (x[i:i + kh, j:j + kw] * k).sum()
            return nd.array(out, dtype=out.dtype)
    """),
    _answer("corr2d.float64", "corr2d", "the loops of the notes with a float64 output", """
        def corr2d(X, K):
            h, w = K.shape
            Y = nd.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), dtype="float64")
            for i in range(Y.shape[0]):
                for j in range(Y.shape[1]):
                    Y[i, j] = (X[i: i + h, j: j + w] * K).sum()
            return Y
    """),

    # ---------------------------------------------------------------- Conv2D
    _answer("Conv2D.notes", "Conv2D", "the layer of the notes", """
        class Conv2D(nn.Block):
            def __init__(self, kernel_size, **kwargs):
                super(Conv2D, self).__init__(**kwargs)
                self.weight = self.params.get('weight', shape=kernel_size)
                self.bias = self.params.get('bias', shape=(1,))

            def forward(self, x):
                return corr2d(x, self.weight.data()) + self.bias.data()
    """),

    # ---------------------------------------------------------------- train_kernel
    _answer("train_kernel.random_init", "train_kernel", "autograd with a kernel drawn from nd.random.normal", """
        def train_kernel(X, Y, kernel_size, num_epochs=10, lr=3e-2):
            K = nd.random.normal(shape=kernel_size)
            K.attach_grad()
            losses = []
            for epoch in range(num_epochs):
                with autograd.record():
                    l = ((corr2d(X, K) - Y) ** 2).sum()
                l.backward()
                K[:] = K - lr * K.grad
                losses.append(l.asscalar())
            return K, losses
    """),
    _answer("train_kernel.zeros_init", "train_kernel", "autograd from a kernel of zeros, float losses", """
        def train_kernel(X, Y, kernel_size, num_epochs=10, lr=3e-2):
            K = nd.zeros(kernel_size)
            K.attach_grad()
            losses = []
            for _ in range(num_epochs):
                with autograd.record():
                    loss = ((corr2d(X, K) - Y) ** 2).sum()
                loss.backward()
                K -= lr * K.grad
                losses.append(float(loss.asscalar()))
            return K, losses
    """),
    _answer("train_kernel.gluon_trainer", "train_kernel", "gluon's nn.Conv2D trained by a gluon.Trainer (sgd)", """
        def train_kernel(X, Y, kernel_size, num_epochs=10, lr=3e-2):
            net = nn.Conv2D(1, kernel_size=kernel_size, use_bias=False)
            net.initialize()
            trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': lr})
            X4, Y4 = X.reshape((1, 1) + X.shape), Y.reshape((1, 1) + Y.shape)
            losses = []
            for _ in range(num_epochs):
                with autograd.record():
                    loss = ((net(X4) - Y4) ** 2).sum()
                loss.backward()
                trainer.step(1)
                losses.append(loss.asscalar())
            return net.weight.data().reshape(kernel_size), losses
    """),

    # ---------------------------------------------------------------- conv2d_output_shape
    _answer("conv2d_output_shape.pairs", "conv2d_output_shape", "every argument made a pair, then the formula", """
        def conv2d_output_shape(input_shape, kernel_size, padding=0, strides=1):
            def pair(v):
                return (v, v) if isinstance(v, int) else tuple(v)
            (h, w), (kh, kw), (ph, pw), (sh, sw) = input_shape, pair(kernel_size), pair(padding), pair(strides)
            return ((h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1)
    """),
    _answer("conv2d_output_shape.numpy_broadcast", "conv2d_output_shape", "numpy broadcasting of ints and pairs", """
        def conv2d_output_shape(input_shape, kernel_size, padding=0, strides=1):
            n, k, p, s = (np.broadcast_to(np.array(v), (2,)) for v in (input_shape, kernel_size, padding, strides))
            return tuple(int(v) for v in (n + 2 * p - k) // s + 1)
    """),
    _answer("conv2d_output_shape.count_windows", "conv2d_output_shape", "counts the window positions one by one", """
        def conv2d_output_shape(input_shape, kernel_size, padding=0, strides=1):
            out = []
            for axis in range(2):
                n = input_shape[axis]
                k, p, s = (v if isinstance(v, int) else v[axis] for v in (kernel_size, padding, strides))
                count, start = 0, 0
                while start + k <= n + 2 * p:
                    count, start = count + 1, start + s
                out.append(count)
            return tuple(out)
    """),

    # ---------------------------------------------------------------- corr2d_pad_stride
    _answer("corr2d_pad_stride.loops", "corr2d_pad_stride",
            "pads into zeros, sizes the output with conv2d_output_shape, loops", """
        def corr2d_pad_stride(X, K, padding=0, strides=1):
            ph, pw = (padding, padding) if isinstance(padding, int) else padding
            sh, sw = (strides, strides) if isinstance(strides, int) else strides
            kh, kw = K.shape
            P = nd.zeros((X.shape[0] + 2 * ph, X.shape[1] + 2 * pw), dtype=X.dtype)
            P[ph:ph + X.shape[0], pw:pw + X.shape[1]] = X
            oh, ow = conv2d_output_shape(X.shape, K.shape, padding, strides)
            Y = nd.zeros((oh, ow), dtype=X.dtype)
            for i in range(oh):
                for j in range(ow):
                    Y[i, j] = (P[i * sh:i * sh + kh, j * sw:j * sw + kw] * K).sum()
            return Y
    """),
    _answer("corr2d_pad_stride.numpy_windows", "corr2d_pad_stride", "numpy: np.pad, sliding windows, strided slices", """
        def corr2d_pad_stride(X, K, padding=0, strides=1):
            ph, pw = np.broadcast_to(padding, (2,))
            sh, sw = np.broadcast_to(strides, (2,))
            x = np.pad(X.asnumpy(), ((ph, ph), (pw, pw)))
            windows = np.lib.stride_tricks.sliding_window_view(x, K.shape)[::sh, ::sw]
            return nd.array(np.einsum('ijkl,kl->ij', windows, K.asnumpy()), dtype=X.dtype)
    """),

    # ---------------------------------------------------------------- corr2d_multi_in
    _answer("corr2d_multi_in.notes", "corr2d_multi_in", "nd.add_n over zip(X, K), as the notes", """
        def corr2d_multi_in(X, K):
            return nd.add_n(*[corr2d(x, k) for x, k in zip(X, K)])
    """),
    _answer("corr2d_multi_in.builtin_sum", "corr2d_multi_in", "Python's sum over channel indices", """
        def corr2d_multi_in(X, K):
            return sum(corr2d(X[i], K[i]) for i in range(X.shape[0]))
    """),

    # ---------------------------------------------------------------- corr2d_multi_in_out
    _answer("corr2d_multi_in_out.notes", "corr2d_multi_in_out", "nd.stack over the kernels, as the notes", """
        def corr2d_multi_in_out(X, K):
            return nd.stack(*[corr2d_multi_in(X, k) for k in K])
    """),
    _answer("corr2d_multi_in_out.concat", "corr2d_multi_in_out", "nd.concat of expanded outputs, indexing K", """
        def corr2d_multi_in_out(X, K):
            return nd.concat(*[corr2d_multi_in(X, K[o]).expand_dims(0) for o in range(K.shape[0])], dim=0)
    """),

    # ---------------------------------------------------------------- corr2d_multi_in_out_1x1
    _answer("corr2d_multi_in_out_1x1.notes", "corr2d_multi_in_out_1x1", "reshape, nd.dot(K, X), reshape", """
        def corr2d_multi_in_out_1x1(X, K):
            c_i, h, w = X.shape
            c_o = K.shape[0]
            X = X.reshape((c_i, h * w))
            K = K.reshape((c_o, c_i))
            Y = nd.dot(K, X)
            return Y.reshape((c_o, h, w))
    """),
    _answer("corr2d_multi_in_out_1x1.transposes", "corr2d_multi_in_out_1x1", "nd.dot of the transposes, transposed back", """
        def corr2d_multi_in_out_1x1(X, K):
            c_i, h, w = X.shape
            c_o = K.shape[0]
            Yt = nd.dot(X.reshape((c_i, h * w)).T, K.reshape((c_o, c_i)).T)
            return Yt.T.reshape((c_o, h, w))
    """),
    _answer("corr2d_multi_in_out_1x1.transpose_flags", "corr2d_multi_in_out_1x1",
            "nd.dot with transpose_a and transpose_b", """
        def corr2d_multi_in_out_1x1(X, K):
            c_i, h, w = X.shape
            Y = nd.dot(X.reshape((c_i, -1)), K.reshape((K.shape[0], c_i)), transpose_a=True, transpose_b=True)
            return Y.T.reshape((K.shape[0], h, w))
    """),
]

# ==================================================================== wrong answers

WRONG = [
    # ---------------------------------------------------------------- corr2d
    _answer("corr2d.flipped_kernel", "corr2d", "flips the kernel: a true convolution", """
        def corr2d(X, K):
            h, w = K.shape
            K = K[::-1, ::-1]
            Y = nd.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
            for i in range(Y.shape[0]):
                for j in range(Y.shape[1]):
                    Y[i, j] = (X[i: i + h, j: j + w] * K).sum()
            return Y
    """, r"true convolution"),
    _answer("corr2d.one_too_small", "corr2d", "output one row and one column too small (h - kh)", """
        def corr2d(X, K):
            h, w = K.shape
            Y = nd.zeros((X.shape[0] - h, X.shape[1] - w))
            for i in range(Y.shape[0]):
                for j in range(Y.shape[1]):
                    Y[i, j] = (X[i: i + h, j: j + w] * K).sum()
            return Y
    """, _SHAPE + r".*last row and column"),
    _answer("corr2d.kernel_height_both_axes", "corr2d", "the kernel's height used for both axes of the output", """
        def corr2d(X, K):
            k = K.shape[0]
            Y = nd.zeros((X.shape[0] - k + 1, X.shape[1] - k + 1))
            for i in range(Y.shape[0]):
                for j in range(Y.shape[1]):
                    Y[i, j] = (X[i: i + k, j: j + K.shape[1]] * K).sum()
            return Y
    """, r"your corr2d raised MXNetError.*could not be broadcast together|" + _SHAPE),
    _answer("corr2d.loops_wrong_axis", "corr2d", "the inner loop runs over range(Y.shape[0])", """
        def corr2d(X, K):
            h, w = K.shape
            Y = nd.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
            for i in range(Y.shape[0]):
                for j in range(Y.shape[0]):
                    Y[i, j] = (X[i: i + h, j: j + w] * K).sum()
            return Y
    """, r"your corr2d raised \w+Error|" + _VALUES + r".*only the top-left"),
    _answer("corr2d.mean_not_sum", "corr2d", "the mean of each window's products instead of their sum", """
        def corr2d(X, K):
            h, w = K.shape
            Y = nd.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
            for i in range(Y.shape[0]):
                for j in range(Y.shape[1]):
                    Y[i, j] = (X[i: i + h, j: j + w] * K).mean()
            return Y
    """, r"the mean of each window's products"),
    _answer("corr2d.matrix_product", "corr2d", "nd.dot of window and kernel instead of an elementwise product", """
        def corr2d(X, K):
            h, w = K.shape
            Y = nd.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
            for i in range(Y.shape[0]):
                for j in range(Y.shape[1]):
                    Y[i, j] = nd.dot(X[i: i + h, j: j + w], K).sum()
            return Y
    """, r"matrix product"),
    _answer("corr2d.transposed_result", "corr2d", "returns the output transposed", """
        def corr2d(X, K):
            h, w = K.shape
            Y = nd.zeros((X.shape[1] - w + 1, X.shape[0] - h + 1))
            for i in range(Y.shape[1]):
                for j in range(Y.shape[0]):
                    Y[j, i] = (X[i: i + h, j: j + w] * K).sum()
            return Y
    """, r"the expected one transposed"),

    # ---------------------------------------------------------------- Conv2D
    _answer("Conv2D.bias_dropped", "Conv2D", "forward leaves the bias out", """
        class Conv2D(nn.Block):
            def __init__(self, kernel_size, **kwargs):
                super(Conv2D, self).__init__(**kwargs)
                self.weight = self.params.get('weight', shape=kernel_size)
                self.bias = self.params.get('bias', shape=(1,))

            def forward(self, x):
                return corr2d(x, self.weight.data())
    """, r"no gradient of loss = output.sum\(\) reaches your bias, so it never trains.*leave it out"),
    _answer("Conv2D.bias_in_kernel", "Conv2D", "adds the bias to the kernel instead of to the output", """
        class Conv2D(nn.Block):
            def __init__(self, kernel_size, **kwargs):
                super(Conv2D, self).__init__(**kwargs)
                self.weight = self.params.get('weight', shape=kernel_size)
                self.bias = self.params.get('bias', shape=(1,))

            def forward(self, x):
                return corr2d(x, self.weight.data() + self.bias.data())
    """, r"bias added to each kernel entry"),
    _answer("Conv2D.bias_subtracted", "Conv2D", "subtracts the bias", """
        class Conv2D(nn.Block):
            def __init__(self, kernel_size, **kwargs):
                super(Conv2D, self).__init__(**kwargs)
                self.weight = self.params.get('weight', shape=kernel_size)
                self.bias = self.params.get('bias', shape=(1,))

            def forward(self, x):
                return corr2d(x, self.weight.data()) - self.bias.data()
    """, r"bias subtracted"),
    _answer("Conv2D.weight_transposed", "Conv2D", "weight of shape (kw, kh), transposed back in forward", """
        class Conv2D(nn.Block):
            def __init__(self, kernel_size, **kwargs):
                super(Conv2D, self).__init__(**kwargs)
                self.weight = self.params.get('weight', shape=(kernel_size[1], kernel_size[0]))
                self.bias = self.params.get('bias', shape=(1,))

            def forward(self, x):
                return corr2d(x, self.weight.data().T) + self.bias.data()
    """, r"your weight has shape \(\d+, \d+\); expected"),
    _answer("Conv2D.bias_2d", "Conv2D", "a bias of shape (1, 1)", """
        class Conv2D(nn.Block):
            def __init__(self, kernel_size, **kwargs):
                super(Conv2D, self).__init__(**kwargs)
                self.weight = self.params.get('weight', shape=kernel_size)
                self.bias = self.params.get('bias', shape=(1, 1))

            def forward(self, x):
                return corr2d(x, self.weight.data()) + self.bias.data()
    """, r"your bias has shape \(1, 1\); expected \(1,\)"),
    _answer("Conv2D.weight_not_parameter", "Conv2D", "the weight is a plain NDArray, not a parameter", """
        class Conv2D(nn.Block):
            def __init__(self, kernel_size, **kwargs):
                super(Conv2D, self).__init__(**kwargs)
                self.weight = nd.random.uniform(shape=kernel_size)
                self.bias = self.params.get('bias', shape=(1,))

            def forward(self, x):
                return corr2d(x, self.weight) + self.bias.data()
    """, r"no parameter named weight"),
    _answer("Conv2D.arguments_swapped", "Conv2D", "corr2d(weight, x): the arguments swapped", """
        class Conv2D(nn.Block):
            def __init__(self, kernel_size, **kwargs):
                super(Conv2D, self).__init__(**kwargs)
                self.weight = self.params.get('weight', shape=kernel_size)
                self.bias = self.params.get('bias', shape=(1,))

            def forward(self, x):
                return corr2d(self.weight.data(), x) + self.bias.data()
    """, r"your Conv2D raised MXNetError.*kernel size exceed input"),

    # ---------------------------------------------------------------- train_kernel
    _answer("train_kernel.gradient_ascent", "train_kernel", "adds the gradient: gradient ascent", """
        def train_kernel(X, Y, kernel_size, num_epochs=10, lr=3e-2):
            K = nd.random.normal(shape=kernel_size)
            K.attach_grad()
            losses = []
            for epoch in range(num_epochs):
                with autograd.record():
                    l = ((corr2d(X, K) - Y) ** 2).sum()
                l.backward()
                K[:] = K + lr * K.grad
                losses.append(l.asscalar())
            return K, losses
    """, r"your loss rose"),
    _answer("train_kernel.no_update", "train_kernel", "updates a numpy copy of K, so K never changes", """
        def train_kernel(X, Y, kernel_size, num_epochs=10, lr=3e-2):
            K = nd.random.normal(shape=kernel_size)
            K.attach_grad()
            losses = []
            for epoch in range(num_epochs):
                with autograd.record():
                    l = ((corr2d(X, K) - Y) ** 2).sum()
                l.backward()
                k = K.asnumpy()
                k -= lr * K.grad.asnumpy()
                losses.append(l.asscalar())
            return K, losses
    """, r"hardly fell.*is the kernel updated"),
    _answer("train_kernel.update_detaches", "train_kernel", "K = K - lr * K.grad: the new K has no gradient", """
        def train_kernel(X, Y, kernel_size, num_epochs=10, lr=3e-2):
            K = nd.random.normal(shape=kernel_size)
            K.attach_grad()
            losses = []
            for epoch in range(num_epochs):
                with autograd.record():
                    l = ((corr2d(X, K) - Y) ** 2).sum()
                l.backward()
                K = K - lr * K.grad
                losses.append(l.asscalar())
            return K, losses
    """, r"your train_kernel raised MXNetError.*Cannot differentiate node"),
    _answer("train_kernel.one_epoch_short", "train_kernel", "range(num_epochs - 1): one epoch too few", """
        def train_kernel(X, Y, kernel_size, num_epochs=10, lr=3e-2):
            K = nd.random.normal(shape=kernel_size)
            K.attach_grad()
            losses = []
            for epoch in range(num_epochs - 1):
                with autograd.record():
                    l = ((corr2d(X, K) - Y) ** 2).sum()
                l.backward()
                K[:] = K - lr * K.grad
                losses.append(l.asscalar())
            return K, losses
    """, r"your losses has \d+ entries; expected one per epoch"),
    _answer("train_kernel.mean_loss", "train_kernel", "the mean squared error instead of the summed one", """
        def train_kernel(X, Y, kernel_size, num_epochs=10, lr=3e-2):
            K = nd.random.normal(shape=kernel_size)
            K.attach_grad()
            losses = []
            for epoch in range(num_epochs):
                with autograd.record():
                    l = ((corr2d(X, K) - Y) ** 2).mean()
                l.backward()
                K[:] = K - lr * K.grad
                losses.append(l.asscalar())
            return K, losses
    """, r"your losses are the mean of the squared errors"),
    _answer("train_kernel.lr_hardcoded", "train_kernel", "ignores the lr argument (always 3e-2)", """
        def train_kernel(X, Y, kernel_size, num_epochs=10, lr=3e-2):
            K = nd.random.normal(shape=kernel_size)
            K.attach_grad()
            losses = []
            for epoch in range(num_epochs):
                with autograd.record():
                    l = ((corr2d(X, K) - Y) ** 2).sum()
                l.backward()
                K[:] = K - 3e-2 * K.grad
                losses.append(l.asscalar())
            return K, losses
    """, r"lr = 0.03 rather than the lr argument"),
    _answer("train_kernel.loss_not_float", "train_kernel", "appends the loss NDArray instead of a float", """
        def train_kernel(X, Y, kernel_size, num_epochs=10, lr=3e-2):
            K = nd.random.normal(shape=kernel_size)
            K.attach_grad()
            losses = []
            for epoch in range(num_epochs):
                with autograd.record():
                    l = ((corr2d(X, K) - Y) ** 2).sum()
                l.backward()
                K[:] = K - lr * K.grad
                losses.append(l)
            return K, losses
    """, r"losses\[0\] is an? NDArray \(call .asscalar\(\) on it\)"),

    # ---------------------------------------------------------------- conv2d_output_shape
    _answer("conv2d_output_shape.padding_one_side", "conv2d_output_shape", "counts the padding once per axis", """
        def conv2d_output_shape(input_shape, kernel_size, padding=0, strides=1):
            pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)
            (h, w), (kh, kw), (ph, pw), (sh, sw) = input_shape, pair(kernel_size), pair(padding), pair(strides)
            return ((h + ph - kh) // sh + 1, (w + pw - kw) // sw + 1)
    """, r"your answer is \(\d+, \d+\); expected.*counting the padding once"),
    _answer("conv2d_output_shape.padding_ignored", "conv2d_output_shape", "leaves the padding out", """
        def conv2d_output_shape(input_shape, kernel_size, padding=0, strides=1):
            pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)
            (h, w), (kh, kw), (sh, sw) = input_shape, pair(kernel_size), pair(strides)
            return ((h - kh) // sh + 1, (w - kw) // sw + 1)
    """, r"leaving out the padding"),
    _answer("conv2d_output_shape.ceil", "conv2d_output_shape", "rounds up (ceil) instead of down", """
        import math

        def conv2d_output_shape(input_shape, kernel_size, padding=0, strides=1):
            pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)
            (h, w), (kh, kw), (ph, pw), (sh, sw) = input_shape, pair(kernel_size), pair(padding), pair(strides)
            return (math.ceil((h + 2 * ph - kh) / sh) + 1, math.ceil((w + 2 * pw - kw) / sw) + 1)
    """, r"rounding up"),
    _answer("conv2d_output_shape.plus_one_inside", "conv2d_output_shape", "(n + 2p - k + 1) // s: the + 1 before dividing", """
        def conv2d_output_shape(input_shape, kernel_size, padding=0, strides=1):
            pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)
            (h, w), (kh, kw), (ph, pw), (sh, sw) = input_shape, pair(kernel_size), pair(padding), pair(strides)
            return ((h + 2 * ph - kh + 1) // sh, (w + 2 * pw - kw + 1) // sw)
    """, r"the 1 before dividing"),
    _answer("conv2d_output_shape.one_stride", "conv2d_output_shape", "the height's stride used for both axes", """
        def conv2d_output_shape(input_shape, kernel_size, padding=0, strides=1):
            pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)
            (h, w), (kh, kw), (ph, pw), (s, _) = input_shape, pair(kernel_size), pair(padding), pair(strides)
            return ((h + 2 * ph - kh) // s + 1, (w + 2 * pw - kw) // s + 1)
    """, r"stride of the height for both axes"),
    _answer("conv2d_output_shape.kernel_height_both", "conv2d_output_shape", "the kernel's height used for both axes", """
        def conv2d_output_shape(input_shape, kernel_size, padding=0, strides=1):
            pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)
            (h, w), (k, _), (ph, pw), (sh, sw) = input_shape, pair(kernel_size), pair(padding), pair(strides)
            return ((h + 2 * ph - k) // sh + 1, (w + 2 * pw - k) // sw + 1)
    """, r"kernel's height for both axes"),
    _answer("conv2d_output_shape.ints_only", "conv2d_output_shape", "handles ints only, not pairs", """
        def conv2d_output_shape(input_shape, kernel_size, padding=0, strides=1):
            h, w = input_shape
            return ((h + 2 * padding - kernel_size) // strides + 1, (w + 2 * padding - kernel_size) // strides + 1)
    """, r"your conv2d_output_shape raised TypeError"),
    _answer("conv2d_output_shape.true_division", "conv2d_output_shape", "divides with / and returns floats", """
        def conv2d_output_shape(input_shape, kernel_size, padding=0, strides=1):
            pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)
            (h, w), (kh, kw), (ph, pw), (sh, sw) = input_shape, pair(kernel_size), pair(padding), pair(strides)
            return ((h + 2 * ph - kh) / sh + 1, (w + 2 * pw - kw) / sw + 1)
    """, r"your answer contains a float; expected a tuple \(h, w\) of two ints"),

    # ---------------------------------------------------------------- corr2d_pad_stride
    _answer("corr2d_pad_stride.padding_one_side", "corr2d_pad_stride", "pads the top and left only", """
        def corr2d_pad_stride(X, K, padding=0, strides=1):
            ph, pw = (padding, padding) if isinstance(padding, int) else padding
            sh, sw = (strides, strides) if isinstance(strides, int) else strides
            kh, kw = K.shape
            P = nd.zeros((X.shape[0] + ph, X.shape[1] + pw), dtype=X.dtype)
            P[ph:, pw:] = X
            Y = nd.zeros(((P.shape[0] - kh) // sh + 1, (P.shape[1] - kw) // sw + 1), dtype=X.dtype)
            for i in range(Y.shape[0]):
                for j in range(Y.shape[1]):
                    Y[i, j] = (P[i * sh:i * sh + kh, j * sw:j * sw + kw] * K).sum()
            return Y
    """, r"one side only"),
    _answer("corr2d_pad_stride.padding_as_total", "corr2d_pad_stride", "padding taken as the total: padding // 2 per side", """
        def corr2d_pad_stride(X, K, padding=0, strides=1):
            ph, pw = (padding, padding) if isinstance(padding, int) else padding
            sh, sw = (strides, strides) if isinstance(strides, int) else strides
            kh, kw = K.shape
            P = nd.zeros((X.shape[0] + ph, X.shape[1] + pw), dtype=X.dtype)
            P[ph // 2:ph // 2 + X.shape[0], pw // 2:pw // 2 + X.shape[1]] = X
            Y = nd.zeros(((P.shape[0] - kh) // sh + 1, (P.shape[1] - kw) // sw + 1), dtype=X.dtype)
            for i in range(Y.shape[0]):
                for j in range(Y.shape[1]):
                    Y[i, j] = (P[i * sh:i * sh + kh, j * sw:j * sw + kw] * K).sum()
            return Y
    """, r"padding as the total"),
    _answer("corr2d_pad_stride.padding_ignored", "corr2d_pad_stride", "no padding at all", """
        def corr2d_pad_stride(X, K, padding=0, strides=1):
            sh, sw = (strides, strides) if isinstance(strides, int) else strides
            kh, kw = K.shape
            Y = nd.zeros(((X.shape[0] - kh) // sh + 1, (X.shape[1] - kw) // sw + 1), dtype=X.dtype)
            for i in range(Y.shape[0]):
                for j in range(Y.shape[1]):
                    Y[i, j] = (X[i * sh:i * sh + kh, j * sw:j * sw + kw] * K).sum()
            return Y
    """, r"without the padding"),
    _answer("corr2d_pad_stride.one_stride", "corr2d_pad_stride", "the height's stride used for both axes", """
        def corr2d_pad_stride(X, K, padding=0, strides=1):
            ph, pw = (padding, padding) if isinstance(padding, int) else padding
            s = strides if isinstance(strides, int) else strides[0]
            kh, kw = K.shape
            P = nd.zeros((X.shape[0] + 2 * ph, X.shape[1] + 2 * pw), dtype=X.dtype)
            P[ph:ph + X.shape[0], pw:pw + X.shape[1]] = X
            Y = nd.zeros(((P.shape[0] - kh) // s + 1, (P.shape[1] - kw) // s + 1), dtype=X.dtype)
            for i in range(Y.shape[0]):
                for j in range(Y.shape[1]):
                    Y[i, j] = (P[i * s:i * s + kh, j * s:j * s + kw] * K).sum()
            return Y
    """, r"stride of the height for both axes"),
    _answer("corr2d_pad_stride.window_not_strided", "corr2d_pad_stride",
            "the right output shape, but window (i, j) starts at (i, j), not (i·s_h, j·s_w)", """
        def corr2d_pad_stride(X, K, padding=0, strides=1):
            ph, pw = (padding, padding) if isinstance(padding, int) else padding
            kh, kw = K.shape
            P = nd.zeros((X.shape[0] + 2 * ph, X.shape[1] + 2 * pw), dtype=X.dtype)
            P[ph:ph + X.shape[0], pw:pw + X.shape[1]] = X
            Y = nd.zeros(conv2d_output_shape(X.shape, K.shape, padding, strides), dtype=X.dtype)
            for i in range(Y.shape[0]):
                for j in range(Y.shape[1]):
                    Y[i, j] = (P[i:i + kh, j:j + kw] * K).sum()
            return Y
    """, _VALUES + r".*do not move by the stride"),
    _answer("corr2d_pad_stride.flipped_kernel", "corr2d_pad_stride", "flips the kernel: a true convolution", """
        def corr2d_pad_stride(X, K, padding=0, strides=1):
            ph, pw = np.broadcast_to(padding, (2,))
            sh, sw = np.broadcast_to(strides, (2,))
            x = np.pad(X.asnumpy(), ((ph, ph), (pw, pw)))
            k = K.asnumpy()[::-1, ::-1]
            windows = np.lib.stride_tricks.sliding_window_view(x, k.shape)[::sh, ::sw]
            return nd.array(np.einsum('ijkl,kl->ij', windows, k), dtype=X.dtype)
    """, r"true convolution"),
    _answer("corr2d_pad_stride.ints_only", "corr2d_pad_stride", "padding and strides handled as ints only", """
        def corr2d_pad_stride(X, K, padding=0, strides=1):
            kh, kw = K.shape
            P = nd.zeros((X.shape[0] + 2 * padding, X.shape[1] + 2 * padding), dtype=X.dtype)
            P[padding:padding + X.shape[0], padding:padding + X.shape[1]] = X
            Y = nd.zeros(((P.shape[0] - kh) // strides + 1, (P.shape[1] - kw) // strides + 1), dtype=X.dtype)
            for i in range(Y.shape[0]):
                for j in range(Y.shape[1]):
                    Y[i, j] = (P[i * strides:i * strides + kh, j * strides:j * strides + kw] * K).sum()
            return Y
    """, r"your corr2d_pad_stride raised TypeError"),
    _answer("corr2d_pad_stride.padding_axes_swapped", "corr2d_pad_stride", "padding pair read as (width, height)", """
        def corr2d_pad_stride(X, K, padding=0, strides=1):
            pw, ph = (padding, padding) if isinstance(padding, int) else padding
            sh, sw = (strides, strides) if isinstance(strides, int) else strides
            kh, kw = K.shape
            P = nd.zeros((X.shape[0] + 2 * ph, X.shape[1] + 2 * pw), dtype=X.dtype)
            P[ph:ph + X.shape[0], pw:pw + X.shape[1]] = X
            Y = nd.zeros(((P.shape[0] - kh) // sh + 1, (P.shape[1] - kw) // sw + 1), dtype=X.dtype)
            for i in range(Y.shape[0]):
                for j in range(Y.shape[1]):
                    Y[i, j] = (P[i * sh:i * sh + kh, j * sw:j * sw + kw] * K).sum()
            return Y
    """, r"padding of the height and width swapped"),

    # ---------------------------------------------------------------- corr2d_multi_in
    _answer("corr2d_multi_in.stacked", "corr2d_multi_in", "stacks the channels' outputs instead of summing them", """
        def corr2d_multi_in(X, K):
            return nd.stack(*[corr2d(x, k) for x, k in zip(X, K)])
    """, _SHAPE + r".*stacked, not summed"),
    _answer("corr2d_multi_in.mean_over_channels", "corr2d_multi_in", "averages the channels instead of summing", """
        def corr2d_multi_in(X, K):
            return nd.add_n(*[corr2d(x, k) for x, k in zip(X, K)]) / X.shape[0]
    """, r"mean over the channels"),
    _answer("corr2d_multi_in.first_channel", "corr2d_multi_in", "uses the first channel only", """
        def corr2d_multi_in(X, K):
            return corr2d(X[0], K[0])
    """, r"only the first 1 of the \d+ channels"),
    _answer("corr2d_multi_in.range_of_kernel_height", "corr2d_multi_in",
            "sums over range(K.shape[1]), the kernel height, not the channels", """
        def corr2d_multi_in(X, K):
            return nd.add_n(*[corr2d(X[i], K[i]) for i in range(min(K.shape[1], K.shape[0]))])
    """, r"only the first \d+ of the \d+ channels"),
    _answer("corr2d_multi_in.same_kernel", "corr2d_multi_in", "every channel cross-correlated with K[0]", """
        def corr2d_multi_in(X, K):
            return nd.add_n(*[corr2d(x, K[0]) for x in X])
    """, r"K\[0\]"),
    _answer("corr2d_multi_in.summed_first", "corr2d_multi_in", "sums X and K over channels, then one cross-correlation", """
        def corr2d_multi_in(X, K):
            return corr2d(X.sum(axis=0), K.sum(axis=0))
    """, r"summed before the cross-correlation"),

    # ---------------------------------------------------------------- corr2d_multi_in_out
    _answer("corr2d_multi_in_out.summed_outputs", "corr2d_multi_in_out", "sums the output channels instead of stacking", """
        def corr2d_multi_in_out(X, K):
            return nd.add_n(*[corr2d_multi_in(X, k) for k in K])
    """, _SHAPE + r".*output channels were summed"),
    _answer("corr2d_multi_in_out.concatenated", "corr2d_multi_in_out", "nd.concat along rows instead of nd.stack", """
        def corr2d_multi_in_out(X, K):
            return nd.concat(*[corr2d_multi_in(X, k) for k in K], dim=0)
    """, _SHAPE + r".*concatenated"),
    _answer("corr2d_multi_in_out.channels_last", "corr2d_multi_in_out", "stacks on the last axis: (h', w', c_o)", """
        def corr2d_multi_in_out(X, K):
            return nd.stack(*[corr2d_multi_in(X, k) for k in K], axis=2)
    """, _SHAPE + r".*channels last"),
    _answer("corr2d_multi_in_out.last_kernel_missing", "corr2d_multi_in_out", "range(len(K) - 1): drops the last kernel", """
        def corr2d_multi_in_out(X, K):
            return nd.stack(*[corr2d_multi_in(X, K[o]) for o in range(len(K) - 1)])
    """, r"the last output channel is missing"),
    _answer("corr2d_multi_in_out.kernel_axes_swapped", "corr2d_multi_in_out", "pairs channels with K[:, i]: c_o and c_i swapped", """
        def corr2d_multi_in_out(X, K):
            return nd.stack(*[corr2d_multi_in(X, K[:, i]) for i in range(K.shape[1])])
    """, r"your corr2d_multi_in_out raised MXNetError.*Shape inconsistent"),
    _answer("corr2d_multi_in_out.zip_on_kernels", "corr2d_multi_in_out", "zip(X, K) on the 4-D kernel", """
        def corr2d_multi_in_out(X, K):
            return nd.stack(*[corr2d_multi_in(x, k) for x, k in zip(X, K)])
    """, r"your corr2d_multi_in_out raised MXNetError.*Input data should be 4D"),
    _answer("corr2d_multi_in_out.mean_over_inputs", "corr2d_multi_in_out", "averages the input channels", """
        def corr2d_multi_in_out(X, K):
            return nd.stack(*[corr2d_multi_in(X, k) for k in K]) / X.shape[0]
    """, r"mean over the input channels"),

    # ---------------------------------------------------------------- corr2d_multi_in_out_1x1
    _answer("corr2d_multi_in_out_1x1.pixels_first", "corr2d_multi_in_out_1x1", "X reshaped as (h*w, c_i)", """
        def corr2d_multi_in_out_1x1(X, K):
            c_i, h, w = X.shape
            c_o = K.shape[0]
            Y = nd.dot(X.reshape((h * w, c_i)), K.reshape((c_o, c_i)).T)
            return Y.T.reshape((c_o, h, w))
    """, r"\(h·w, c_i\)"),
    _answer("corr2d_multi_in_out_1x1.product_not_transposed", "corr2d_multi_in_out_1x1",
            "the (h*w, c_o) product reshaped without transposing", """
        def corr2d_multi_in_out_1x1(X, K):
            c_i, h, w = X.shape
            c_o = K.shape[0]
            Y = nd.dot(X.reshape((c_i, h * w)).T, K.reshape((c_o, c_i)).T)
            return Y.reshape((c_o, h, w))
    """, r"without transposing it"),
    _answer("corr2d_multi_in_out_1x1.kernel_reshaped", "corr2d_multi_in_out_1x1",
            "K reshaped to (c_i, c_o) instead of transposed", """
        def corr2d_multi_in_out_1x1(X, K):
            c_i, h, w = X.shape
            c_o = K.shape[0]
            Y = nd.dot(K.reshape((c_i, c_o)).T, X.reshape((c_i, h * w)))
            return Y.reshape((c_o, h, w))
    """, r"reshaped to \(c_i, c_o\)"),
    _answer("corr2d_multi_in_out_1x1.flat_output", "corr2d_multi_in_out_1x1", "returns the (c_o, h*w) product unreshaped", """
        def corr2d_multi_in_out_1x1(X, K):
            c_i, h, w = X.shape
            return nd.dot(K.reshape((K.shape[0], c_i)), X.reshape((c_i, h * w)))
    """, _SHAPE + r".*flat"),
    _answer("corr2d_multi_in_out_1x1.height_width_swapped", "corr2d_multi_in_out_1x1", "reshapes the output to (c_o, w, h)", """
        def corr2d_multi_in_out_1x1(X, K):
            c_i, h, w = X.shape
            c_o = K.shape[0]
            return nd.dot(K.reshape((c_o, c_i)), X.reshape((c_i, h * w))).reshape((c_o, w, h))
    """, _SHAPE + r".*\(c_o, w, h\)"),
    _answer("corr2d_multi_in_out_1x1.broadcast_wrong_axis", "corr2d_multi_in_out_1x1",
            "broadcasts X * K and sums axis 0 (the output channels) instead of axis 1", """
        def corr2d_multi_in_out_1x1(X, K):
            return (X.expand_dims(0) * K).sum(axis=0)
    """, r"sums over the output channels"),
    _answer("train_kernel.loss_after_update", "train_kernel",
            "records each epoch's loss after the update, not before it", """
        def train_kernel(X, Y, kernel_size, num_epochs=10, lr=3e-2):
            K = nd.random.normal(shape=kernel_size)
            K.attach_grad()
            losses = []
            for epoch in range(num_epochs):
                with autograd.record():
                    l = ((corr2d(X, K) - Y) ** 2).sum()
                l.backward()
                K[:] = K - lr * K.grad
                losses.append(((corr2d(X, K) - Y) ** 2).sum().asscalar())
            return K, losses
    """, r"record each epoch's loss before its update"),
]


# Found by issue 9: each kept full marks, or got a misleading hint, before the checks it names.
WRONG += [
    # ------------------------------------------------ Conv2D.parameters: registered, reached by the gradient
    _answer("Conv2D.weight_unregistered", "Conv2D",
            "weight a gluon.Parameter made outside self.params: collect_params() lacks it, it never trains", """
        class Conv2D(nn.Block):
            def __init__(self, kernel_size, **kwargs):
                super(Conv2D, self).__init__(**kwargs)
                self.weight = gluon.Parameter('weight', shape=kernel_size)
                self.weight.initialize()
                self.bias = self.params.get('bias', shape=(1,))

            def forward(self, x):
                return corr2d(x, self.weight.data()) + self.bias.data()
    """, r"your weight is not among layer.collect_params\(\)"),
    _answer("Conv2D.bias_as_number", "Conv2D", "adds the bias as a number (.asscalar()): no gradient reaches it", """
        class Conv2D(nn.Block):
            def __init__(self, kernel_size, **kwargs):
                super(Conv2D, self).__init__(**kwargs)
                self.weight = self.params.get('weight', shape=kernel_size)
                self.bias = self.params.get('bias', shape=(1,))

            def forward(self, x):
                return corr2d(x, self.weight.data()) + self.bias.data().asscalar()
    """, r"no gradient of loss = output.sum\(\) reaches your bias, so it never trains"),
    _answer("Conv2D.bias_detached", "Conv2D", "adds a detached copy of the bias (.detach())", """
        class Conv2D(nn.Block):
            def __init__(self, kernel_size, **kwargs):
                super(Conv2D, self).__init__(**kwargs)
                self.weight = self.params.get('weight', shape=kernel_size)
                self.bias = self.params.get('bias', shape=(1,))

            def forward(self, x):
                return corr2d(x, self.weight.data()) + self.bias.data().detach()
    """, r"no gradient of loss = output.sum\(\) reaches your bias, so it never trains"),

    # ------------------------------------------------ train_kernel.losses: replayed from the same start
    _answer("train_kernel.stops_early_padded", "train_kernel",
            "stops once the loss is below 1e-3 and pads its losses with the last one", """
        def train_kernel(X, Y, kernel_size, num_epochs=10, lr=3e-2):
            K = nd.random.normal(shape=kernel_size)
            K.attach_grad()
            losses = []
            for epoch in range(num_epochs):
                with autograd.record():
                    l = ((corr2d(X, K) - Y) ** 2).sum()
                if l.asscalar() < 1e-3:
                    break
                l.backward()
                K[:] = K - lr * K.grad
                losses.append(l.asscalar())
            losses += [losses[-1]] * (num_epochs - len(losses))
            return K, losses
    """, r"loss of epoch \d+ is .*has the summed squared error .*stop early"),
    _answer("train_kernel.lstsq_made_up_losses", "train_kernel",
            "solves least squares in one step (numpy lstsq) and makes up a falling list of losses", """
        def train_kernel(X, Y, kernel_size, num_epochs=10, lr=3e-2):
            kh, kw = kernel_size
            x, y = X.asnumpy(), Y.asnumpy()
            P = np.array([x[i:i + kh, j:j + kw].ravel() for i in range(y.shape[0]) for j in range(y.shape[1])])
            k = np.linalg.lstsq(P, y.ravel(), rcond=None)[0]
            first = float((y ** 2).sum())
            losses = [first * 0.5 ** epoch for epoch in range(num_epochs)]
            return nd.array(k.reshape(kernel_size)), losses
    """, r"loss of epoch \d+ is .*has the summed squared error .*made up"),

    # ------------------------------------------------ corner shapes and dtypes
    _answer("corr2d_multi_in_out_1x1.kernel_squeezed", "corr2d_multi_in_out_1x1",
            "K reshaped to (c_o, c_i) then squeeze(): a 1-D kernel when c_i = 1 < c_o", """
        def corr2d_multi_in_out_1x1(X, K):
            c_i, h, w = X.shape
            c_o = K.shape[0]
            Y = nd.dot(K.reshape((c_o, c_i)).squeeze(), X.reshape((c_i, h * w)))
            return Y.reshape((c_o, h, w))
    """, r"for X of shape \(1, \d+, \d+\) and K of shape \(\d+, 1, 1, 1\) your corr2d_multi_in_out_1x1 raised"),
    _answer("corr2d.float16_output", "corr2d", "the loops of the notes into a float16 output", """
        def corr2d(X, K):
            h, w = K.shape
            Y = nd.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), dtype="float16")
            for i in range(Y.shape[0]):
                for j in range(Y.shape[1]):
                    Y[i, j] = (X[i: i + h, j: j + w] * K).sum()
            return Y
    """, r"your output has dtype float16; expected float32 like the input.*significant digits"),
    _answer("corr2d.int32_output", "corr2d", "the loops of the notes into an int32 output", """
        def corr2d(X, K):
            h, w = K.shape
            Y = nd.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), dtype="int32")
            for i in range(Y.shape[0]):
                for j in range(Y.shape[1]):
                    Y[i, j] = (X[i: i + h, j: j + w] * K).sum()
            return Y
    """, r"your output has dtype int32; expected float32 like the input.*drops the fraction"),
    _answer("corr2d_multi_in_out.extra_leading_axis", "corr2d_multi_in_out",
            "nd.stack of outputs expanded to (1, h', w'): an extra axis", """
        def corr2d_multi_in_out(X, K):
            return nd.stack(*[corr2d_multi_in(X, k).expand_dims(0) for k in K], axis=1)
    """, _SHAPE + r": it has an extra axis of length 1"),
    # A hint names a mistake only when it explains every failing case: on the notes' example (the
    # check's one case) a transposed kernel gives what reversed channels give, so both are named.
    _answer("corr2d_multi_in.kernels_transposed", "corr2d_multi_in", "cross-correlates each channel with k.T", """
        def corr2d_multi_in(X, K):
            return nd.add_n(*[corr2d(x, k.T) for x, k in zip(X, K)])
    """, r"one of these known mistakes.*reverse order.*K\[i\]\.T"),
]


# ==================================================================== known gaps



# ==================================================================== exercise rules (grader/rules.py)
# Answers that take the cross-correlation ready-made break their exercise's rule and lose its
# points; answers that compute it another way (FFT, im2col with nd.dot, numpy windows, a fully
# connected layer for 1×1) keep them.

_RULE = r"broke a rule of this exercise: .*"

RIGHT += [
    _answer("corr2d.fft_numpy", "corr2d", "numpy's FFT: the product of the transforms, conjugating the kernel's", """
        def corr2d(X, K):
            x, k = X.asnumpy().astype('float64'), K.asnumpy().astype('float64')
            (h, w), (kh, kw) = x.shape, k.shape
            spectrum = np.fft.rfft2(x) * np.conj(np.fft.rfft2(k, s=x.shape))
            full = np.fft.irfft2(spectrum, s=x.shape)
            return nd.array(full[:h - kh + 1, :w - kw + 1], dtype=X.dtype)
    """),
    _answer("corr2d.im2col_dot", "corr2d", "im2col written with slices and nd.stack, then one nd.dot", """
        def corr2d(X, K):
            kh, kw = K.shape
            oh, ow = X.shape[0] - kh + 1, X.shape[1] - kw + 1
            columns = nd.stack(*[X[a:a + oh, b:b + ow].reshape((-1,)) for a in range(kh) for b in range(kw)])
            return nd.dot(K.reshape((1, -1)).astype(X.dtype), columns).reshape((oh, ow))
    """),
    _answer("corr2d.sliding_window_view", "corr2d", "numpy's sliding_window_view and einsum", """
        def corr2d(X, K):
            windows = np.lib.stride_tricks.sliding_window_view(X.asnumpy(), K.shape)
            return nd.array(np.einsum('ijkl,kl->ij', windows, K.asnumpy()), dtype=X.dtype)
    """),
    _answer("corr2d_multi_in_out_1x1.fully_connected", "corr2d_multi_in_out_1x1",
            "nd.FullyConnected on the pixels, as the chapter shows", """
        def corr2d_multi_in_out_1x1(X, K):
            c_i, h, w = X.shape
            W = K.reshape(K.shape[:2])
            Z = nd.FullyConnected(X.reshape((c_i, -1)).T, W, no_bias=True, num_hidden=W.shape[0])
            return Z.T.reshape((W.shape[0], h, w))
    """),
]

WRONG += [
    _answer("corr2d.convolution_op", "corr2d", "MXNet's own nd.Convolution", """
        def corr2d(X, K):
            Y = nd.Convolution(X.reshape((1, 1) + X.shape), K.reshape((1, 1) + K.shape).astype(X.dtype),
                               kernel=K.shape, num_filter=1, no_bias=True)
            return Y[0, 0]
    """, _RULE + r"\(it used the operator Convolution\)"),
    _answer("corr2d.given_by_the_course", "corr2d", "the whole answer: from grader.reference import corr2d", """
        from grader.reference import corr2d
    """, _RULE + r"a helper of the course's built on one.*Convolution"),
    _answer("train_kernel.given_by_the_course", "train_kernel",
            "the whole answer: the reference's training under another name", """
        from grader.reference import train_kernel as _trained

        def train_kernel(X, Y, kernel_size, num_epochs=10, lr=3e-2):
            return _trained(X, Y, kernel_size, num_epochs, lr)
    """, _RULE + r"grader\.reference"),
    _answer("Conv2D.convolution_op", "Conv2D", "forward with nd.Convolution and its own bias argument", """
        class Conv2D(nn.Block):
            def __init__(self, kernel_size, **kwargs):
                super().__init__(**kwargs)
                self.weight = self.params.get('weight', shape=tuple(kernel_size))
                self.bias = self.params.get('bias', shape=(1,))

            def forward(self, x):
                w = self.weight.data()
                y = nd.Convolution(x.reshape((1, 1) + x.shape), w.reshape((1, 1) + w.shape), self.bias.data(),
                                   kernel=w.shape, num_filter=1)
                return y[0, 0]
    """, _RULE + r"Convolution"),
    _answer("Conv2D.gluon_layer", "Conv2D", "forward runs a Gluon nn.Conv2D holding the weight and bias", """
        class Conv2D(nn.Block):
            def __init__(self, kernel_size, **kwargs):
                super().__init__(**kwargs)
                self.weight = self.params.get('weight', shape=tuple(kernel_size))
                self.bias = self.params.get('bias', shape=(1,))

            def forward(self, x):
                layer = nn.Conv2D(1, kernel_size=self.weight.shape, in_channels=1)
                layer.initialize()
                layer.weight.set_data(self.weight.data().reshape((1, 1) + self.weight.shape))
                layer.bias.set_data(self.bias.data())
                return layer(x.reshape((1, 1) + x.shape))[0, 0]
    """, _RULE + r"Convolution"),
    _answer("conv2d_output_shape.probes_a_layer", "conv2d_output_shape",
            "reads the shape off Gluon's nn.Conv2D run on zeros", """
        def conv2d_output_shape(input_shape, kernel_size, padding=0, strides=1):
            layer = nn.Conv2D(1, kernel_size=kernel_size, padding=padding, strides=strides, in_channels=1)
            layer.initialize()
            return tuple(int(n) for n in layer(nd.zeros((1, 1) + tuple(input_shape))).shape[2:])
    """, _RULE + r"formula.*Convolution"),
    _answer("corr2d_pad_stride.convolution_op", "corr2d_pad_stride", "nd.Convolution with pad and stride", """
        def corr2d_pad_stride(X, K, padding=0, strides=1):
            pad = (padding, padding) if isinstance(padding, int) else tuple(padding)
            stride = (strides, strides) if isinstance(strides, int) else tuple(strides)
            Y = nd.Convolution(X.reshape((1, 1) + X.shape), K.reshape((1, 1) + K.shape).astype(X.dtype),
                               kernel=K.shape, num_filter=1, no_bias=True, pad=pad, stride=stride)
            return Y[0, 0]
    """, _RULE + r"Convolution"),
    _answer("corr2d_multi_in.convolution_op", "corr2d_multi_in", "one nd.Convolution with c_i input channels", """
        def corr2d_multi_in(X, K):
            Y = nd.Convolution(X.expand_dims(0), K.expand_dims(0).astype(X.dtype), kernel=K.shape[1:],
                               num_filter=1, no_bias=True)
            return Y[0, 0]
    """, _RULE + r"Convolution"),
    _answer("corr2d_multi_in_out.reference_imported", "corr2d_multi_in_out",
            "imports the reference's corr2d_multi_in_out under another name", """
        from grader.reference import corr2d_multi_in_out as _ready_made

        def corr2d_multi_in_out(X, K):
            return _ready_made(X, K)
    """, _RULE + r"Convolution"),
    _answer("corr2d_multi_in_out_1x1.given_general", "corr2d_multi_in_out_1x1",
            "calls the general corr2d_multi_in_out the chapter gives for comparison", """
        def corr2d_multi_in_out_1x1(X, K):
            from grader.reference import corr2d_multi_in_out
            return corr2d_multi_in_out(X, K)
    """, _RULE + r"Convolution"),
]


# ==================================================================== the capstone: corr2d_im2col
# Chapter 6's capstone: cross-correlation with channels, padding and strides as one matrix product
# of unrolled windows. The mistakes are those of chapter 4 (padding, strides) and those of the
# unrolling itself: columns and kernel matrix listing a window's entries in different orders.

def _im2col_answer(name, description, window="window.reshape((-1,))", pad="both", stride=True,
                   product="nd.dot(K.reshape((c_o, -1)).astype(X.dtype), columns).reshape((c_o, oh, ow))",
                   axis=1, expect=None, right=False):
    """The loops of the chapter's solution with one piece changed: how a window is unrolled, where
    the padding goes, whether the windows move by the stride, how the product is made."""
    padded = {"both": "Xp[:, ph:ph + h, pw:pw + w] = X",
              "none": "Xp = X",
              "top_left": "Xp[:, ph:, pw:] = X"}[pad]
    sides = "" if pad == "top_left" else "2 * "
    start = "i * sh, j * sw" if stride else "i, j"
    pairs = "0, 0" if pad == "none" else "(padding, padding) if isinstance(padding, int) else padding"
    source = f"""
        def corr2d_im2col(X, K, padding=0, strides=1):
            ph, pw = {pairs}
            sh, sw = (strides, strides) if isinstance(strides, int) else strides
            c_i, h, w = X.shape
            c_o, _, kh, kw = K.shape
            oh, ow = (h + {sides}ph - kh) // sh + 1, (w + {sides}pw - kw) // sw + 1
            Xp = nd.zeros((c_i, h + {sides}ph, w + {sides}pw), dtype=X.dtype)
            {padded}
            cols = []
            for i in range(oh):
                for j in range(ow):
                    r, c = {start}
                    window = Xp[:, r:r + kh, c:c + kw]
                    cols.append({window})
            columns = nd.stack(*cols, axis={axis})
            return {product}
    """
    return _answer(f"corr2d_im2col.{name}", "corr2d_im2col", description, source, None if right else expect)


_IM2COL_RIGHT = [
    _im2col_answer("loops", "pads into zeros, one column per window (nd.stack), one nd.dot", right=True),
    _answer("corr2d_im2col.numpy_windows", "corr2d_im2col",
            "numpy's np.pad and sliding_window_view make the columns, nd.dot multiplies", """
        def corr2d_im2col(X, K, padding=0, strides=1):
            ph, pw = (padding, padding) if isinstance(padding, int) else padding
            sh, sw = (strides, strides) if isinstance(strides, int) else strides
            c_o, c_i, kh, kw = K.shape
            Xp = np.pad(X.asnumpy(), ((0, 0), (ph, ph), (pw, pw)))
            windows = np.lib.stride_tricks.sliding_window_view(Xp, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]
            oh, ow = windows.shape[1:3]
            columns = windows.transpose(0, 3, 4, 1, 2).reshape(c_i * kh * kw, oh * ow)
            Y = nd.dot(K.reshape((c_o, -1)).astype(X.dtype), nd.array(columns, dtype=X.dtype))
            return Y.reshape((c_o, oh, ow))
    """),
    _answer("corr2d_im2col.rows_by_kernel_offset", "corr2d_im2col",
            "one row per kernel entry: a strided nd.slice of the padded input, then one nd.dot", """
        def corr2d_im2col(X, K, padding=0, strides=1):
            ph, pw = (padding, padding) if isinstance(padding, int) else padding
            sh, sw = (strides, strides) if isinstance(strides, int) else strides
            c_i, h, w = X.shape
            c_o, _, kh, kw = K.shape
            Xp = nd.zeros((c_i, h + 2 * ph, w + 2 * pw), dtype=X.dtype)
            Xp[:, ph:ph + h, pw:pw + w] = X
            oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
            rows = [nd.slice(Xp, begin=(c, a, b), end=(c + 1, a + (oh - 1) * sh + 1, b + (ow - 1) * sw + 1),
                             step=(1, sh, sw)).reshape((-1,))
                    for c in range(c_i) for a in range(kh) for b in range(kw)]
            return nd.dot(K.reshape((c_o, -1)).astype(X.dtype), nd.stack(*rows)).reshape((c_o, oh, ow))
    """),
]

_IM2COL_WRONG = [
    _im2col_answer("padding_ignored", "no padding at all", pad="none",
                   expect=r"without the padding"),
    _im2col_answer("padding_one_side", "pads the top and left only", pad="top_left",
                   expect=r"padding on one side only"),
    _im2col_answer("window_not_strided", "the right output shape, but window (i, j) starts at (i, j)",
                   stride=False, expect=r"do not move by the stride"),
    _im2col_answer("columns_column_major", "unrolls each window column by column (window.transpose((0, 2, 1)))",
                   window="window.transpose((0, 2, 1)).reshape((-1,))", expect=r"column by column"),
    _im2col_answer("channels_innermost", "unrolls each window with the channels innermost",
                   window="window.transpose((1, 2, 0)).reshape((-1,))", expect=r"channels innermost"),
    _im2col_answer("product_not_transposed", "windows as rows: the (h'*w', c_o) product reshaped without transposing",
                   axis=0, product="nd.dot(columns, K.reshape((c_o, -1)).astype(X.dtype).T).reshape((c_o, oh, ow))",
                   expect=r"without transposing it"),
    _im2col_answer("flipped_kernel", "flips the kernel (nd.flip on both axes): a true convolution",
                   product="nd.dot(nd.flip(nd.flip(K, axis=2), axis=3).reshape((c_o, -1)).astype(X.dtype), "
                           "columns).reshape((c_o, oh, ow))",
                   expect=r"true convolution"),
    _im2col_answer("flat_output", "returns the (c_o, h'*w') product unreshaped",
                   product="nd.dot(K.reshape((c_o, -1)).astype(X.dtype), columns)", expect=_SHAPE + r".*flat"),
    _im2col_answer("window_products", "no matrix product: each output number a window times its kernel, summed",
                   window="window", axis=0,
                   product="nd.stack(*[nd.stack(*[(col * k).sum() for col in columns]) for k in K.astype(X.dtype)])"
                           ".reshape((c_o, oh, ow))",
                   expect=_RULE + r"it made 0 matrix products"),
    _im2col_answer("product_per_output_channel", "one nd.dot per output channel, stacked",
                   product="nd.stack(*[nd.dot(k.reshape((1, -1)).astype(X.dtype), columns)[0] for k in K])"
                           ".reshape((c_o, oh, ow))",
                   expect=_RULE + r"it made [2-9] matrix products"),
    _answer("corr2d_im2col.convolution_op", "corr2d_im2col", "nd.Convolution with pad and stride", """
        def corr2d_im2col(X, K, padding=0, strides=1):
            pad = (padding, padding) if isinstance(padding, int) else tuple(padding)
            stride = (strides, strides) if isinstance(strides, int) else tuple(strides)
            return nd.Convolution(X.expand_dims(0), K.astype(X.dtype), kernel=K.shape[2:], num_filter=K.shape[0],
                                  no_bias=True, pad=pad, stride=stride)[0]
    """, _RULE + r"Convolution"),
    _answer("corr2d_im2col.mxnet_im2col", "corr2d_im2col", "MXNet's own nd.im2col, then one nd.dot", """
        def corr2d_im2col(X, K, padding=0, strides=1):
            pad = (padding, padding) if isinstance(padding, int) else tuple(padding)
            stride = (strides, strides) if isinstance(strides, int) else tuple(strides)
            c_o, c_i, kh, kw = K.shape
            columns = nd.im2col(X.expand_dims(0), kernel=(kh, kw), stride=stride, pad=pad)[0]
            h = (X.shape[1] + 2 * pad[0] - kh) // stride[0] + 1
            return nd.dot(K.reshape((c_o, -1)).astype(X.dtype), columns).reshape((c_o, h, -1))
    """, _RULE + r"im2col"),
    _answer("corr2d_im2col.given_general", "corr2d_im2col",
            "pads X, then calls the general corr2d_multi_in_out the chapter gives for comparison", """
        from course_runtime.given import corr2d_multi_in_out

        def corr2d_im2col(X, K, padding=0, strides=1):
            ph, pw = (padding, padding) if isinstance(padding, int) else padding
            sh, sw = (strides, strides) if isinstance(strides, int) else strides
            c_i, h, w = X.shape
            Xp = nd.zeros((c_i, h + 2 * ph, w + 2 * pw), dtype=X.dtype)
            Xp[:, ph:ph + h, pw:pw + w] = X
            Y = corr2d_multi_in_out(Xp, K)
            return nd.slice(Y, begin=(None, None, None), end=(None, None, None), step=(1, sh, sw))
    """, _RULE + r"Convolution"),
]

RIGHT += _IM2COL_RIGHT
WRONG += _IM2COL_WRONG


# ==================================================================== namespaces and grading

def base_namespace():
    """What a notebook of the course has defined before the student's first cell."""
    import numpy as np
    import mxnet as mx
    from mxnet import autograd, gluon, nd
    from mxnet.gluon import nn
    from . import reference
    return {"__name__": "__main__", "np": np, "mx": mx, "nd": nd, "autograd": autograd,
            "gluon": gluon, "nn": nn, "corr2d": reference.corr2d}


def run_cell(source, namespace):
    """Run ``source`` in ``namespace`` as IPython runs a cell: under a name of its own whose lines
    linecache holds, so the grader reads the answer's source as in a notebook (grader/rules.py)."""
    import hashlib
    import linecache
    filename = f"<cell {hashlib.sha1(source.encode()).hexdigest()[:12]}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)


def right_answer(exercise):
    """The first right answer of an exercise (the notes' version)."""
    return next(a for a in RIGHT if a.exercise == exercise)


def namespace_for(exercises, override=None):
    """A notebook's namespace: right answers of ``exercises`` run in order, then ``override``
    (an Answer or a source), so that only the override's exercise may be wrong."""
    namespace = base_namespace()
    for exercise in exercises:
        run_cell(right_answer(exercise).source, namespace)
    if override is not None:
        source = override.source if isinstance(override, Answer) else override
        run_cell(source, namespace)
    return namespace


def chapter_namespace(answer):
    """The namespace of ``answer``'s chapter, with ``answer`` in it."""
    return namespace_for(CHAPTERS[chapter_of(answer.exercise)], answer)


def checks_of(exercise):
    from .checks import CHECKS
    return [check for check in CHECKS.values() if check.exercise == exercise]


def grade(namespace, exercise, student=STUDENT, assignment=ASSIGNMENT):
    """{check id: None or failure message} for every check of ``exercise``, in CHECKS order, as
    the notebooks grade (run_check seeds the random generators per case from the submission)."""
    from .checks import make_cases
    from .notebook import run_check
    return {check.id: run_check(check, namespace[exercise], make_cases(check, student, assignment),
                                student, assignment)
            for check in checks_of(exercise)}


def points_table(points_by_check, answers=None, student=STUDENT, assignment=ASSIGNMENT):
    """Rows (exercise, answer name, description, points kept, out of), computed by running the
    checks on each known answer (by default every WRONG then every RIGHT one). A check missing
    from ``points_by_check`` counts 0 points."""
    rows = []
    for answer in (WRONG + RIGHT) if answers is None else answers:
        results = grade(chapter_namespace(answer), answer.exercise, student, assignment)
        kept = sum(points_by_check.get(check_id, 0) for check_id, problem in results.items() if problem is None)
        out_of = sum(points_by_check.get(check_id, 0) for check_id in results)
        rows.append((answer.exercise, answer.name, answer.description, kept, out_of))
    return rows
