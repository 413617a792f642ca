"""A guard on MXNet's operators: while armed, code that runs a forbidden operator breaks a rule.

It knows MXNet, not the exercises (grader/rules.py says which exercise forbids what). Every route
by which Python code can make MXNet run an operator passes one of these points, and each is
wrapped once by ``install()``:

* imperative operators (``nd.*``, ``nd.contrib.*``, ``mx.npx.*``, Gluon layers not hybridized):
  the code MXNet generates for each one calls ``_imperative_invoke`` from the globals of
  ``mxnet/ndarray/register.py``, with the operator's handle as an int;
* symbols (``mx.sym.*``, a Gluon block tracing itself to hybridize): ``_symbol_creator`` in the
  globals of ``mxnet/symbol/register.py``;
* graphs made before the guard was armed, or read from JSON: ``CachedOp`` (hybridized Gluon
  blocks, SymbolBlock), executors (``bind``, ``simple_bind``, ``eval``, Module) and shape
  inference (an output shape read off a symbol), whose graph is read from its JSON.

Aliases share their operator's handle (``_npx_convolution`` is ``Convolution``), so a rule on
the handle covers every name of the operator. The cost while nothing is forbidden is one global
lookup and one set membership per operator call; the stack is looked at only when a forbidden
operator is called.

A forbidden operator may still run when the Python frames that call it are given helpers (the
``allowed`` code objects, reached through the ``via`` code objects of their own module): code
objects are compared by identity, which a student cannot forge, unlike a file name.

What an in-process guard cannot stop: code written to take it apart runs in the same process
(it can call MXNet's C library through ctypes directly). ``intact()`` notices the guard's
wrappers being replaced, and ``source_problems`` refuses answers whose source reaches for
MXNet's private internals, ctypes or the grader's own state; an answer built to get around both
(names assembled from strings) is beyond what this can promise.
"""
import ast
import functools
import json
import sys
import threading
from contextlib import contextmanager

from course_runtime.i18n import N_, translator

from . import LOCALE

_ = translator("grader", LOCALE)


class RuleBroken(Exception):
    """Raised where a forbidden operator is called while the guard is armed."""

    def __init__(self, what):
        super().__init__(_("this exercise does not allow {what}").format(what=what))
        self.what = what


# ------------------------------------------------------------------ state while armed

_forbidden_handles = frozenset()   # read on every operator call: keep it a plain global
_watch_every_operator = False      # armed with via_forbidden: every call is looked at
_armed = None                      # the _Arming in force, or None
_lock = threading.Lock()
_installed = {}                    # hook name -> (holder, attribute, wrapper)
_originals = {}                    # hook name -> the function the wrapper calls


class _Arming:
    def __init__(self, forbidden, allowed, via, via_forbidden=False, counted=()):
        self.forbidden_names = frozenset(forbidden)
        self.handles = _handles_of(self.forbidden_names)
        self.counted = _handles_of(frozenset(counted))   # operators whose calls are counted, not refused
        self.count = 0
        self.allowed = frozenset(allowed)
        self.via = frozenset(via)
        self.via_forbidden = via_forbidden   # any operator asked for through ``via`` breaks the rule
        self.violation = None


@functools.lru_cache(maxsize=None)
def _handles_of(names):
    """The handles of the operators ``names`` (a frozenset; names this MXNet lacks are left out)."""
    return frozenset(h for h in (_op_handle(name) for name in names) if h)


def _op_handle(name):
    import ctypes

    from mxnet.base import _LIB, c_str
    handle = ctypes.c_void_p()
    _LIB.NNGetOpHandle(c_str(name), ctypes.byref(handle))
    return handle.value


def _op_name(handle):
    arming = _armed
    if arming is not None:
        for name in sorted(arming.forbidden_names):
            if _op_handle(name) == handle:
                return name
    return _("a forbidden operator")


def _called_from_allowed(arming, frame):
    """Was the operator asked for by a given helper? ``frame`` is the first frame outside MXNet's
    generated operator code. The frames of the helpers' module (``via``) are walked up to the one
    that was entered from outside that module: that entry point must be an allowed helper, so a
    helper reached through another function of its module (one not given) does not count. With
    ``via_forbidden``, any operator asked for through ``via`` code not so entered breaks the rule
    (train_kernel may use Gluon's layers, not the reference's training)."""
    entry = None
    while frame is not None and (frame.f_code in arming.via or frame.f_code in arming.allowed):
        entry, frame = frame.f_code, frame.f_back
    return entry is not None and entry in arming.allowed


def _break(what):
    arming = _armed
    if arming is not None and arming.violation is None:
        arming.violation = what   # kept even if the student's code catches the exception
    raise RuleBroken(what)


def _through_via(arming, frame, depth=64):
    """Is code of ``via`` (not entered through an allowed helper) among the callers?"""
    while frame is not None and depth:
        if frame.f_code in arming.via:
            return not _called_from_allowed(arming, frame)
        frame, depth = frame.f_back, depth - 1
    return False


def _check_handle(handle):
    """Called by a hook that MXNet's generated operator function called: the frame above that
    function is the code that asked for the operator."""
    arming = _armed
    if arming is None:
        return
    if arming.via_forbidden and _through_via(arming, sys._getframe(3)):
        _break(_("the course's own code (grader.reference)"))
    if handle in arming.counted:
        arming.count += 1
    if handle not in arming.handles:
        return
    if _called_from_allowed(arming, sys._getframe(3)):
        return
    _break(_("the operator {name}").format(name=_op_name(handle)))


def _graph_ops(symbol):
    """Every operator of a symbol's graph, subgraphs included."""
    ops = set()

    def walk(value):
        if isinstance(value, dict):
            if isinstance(value.get("op"), str):
                ops.add(value["op"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
    walk(json.loads(symbol.tojson()))
    return frozenset(ops)


def _check_graph(ops, route):
    arming = _armed
    if arming is None or ops is None:
        return
    used = sorted(ops & arming.forbidden_names)
    if used:
        _break(_("the operator {name} (in {route})").format(name=used[0], route=_(route)))


# ------------------------------------------------------------------ the hooks

def _guarded_invoke(handle, ndargs, keys, vals, out, is_np_op, output_is_list):
    if handle in _forbidden_handles or _watch_every_operator:
        _check_handle(handle)
    return _originals["invoke"](handle, ndargs, keys, vals, out, is_np_op, output_is_list)


def _guarded_symbol_creator(handle, *args, **kwargs):
    if handle in _forbidden_handles or _watch_every_operator:
        _check_handle(handle)
    return _originals["symbol_creator"](handle, *args, **kwargs)


_cached_op_graphs = {}   # CachedOp handle value -> its graph's operators (CachedOp has __slots__)


def _cached_op_init(self, sym, flags=()):
    _originals["cached_op_init"](self, sym, flags)
    _cached_op_graphs[self.handle.value] = _graph_ops(sym)


def _cached_op_del(self):
    _cached_op_graphs.pop(getattr(getattr(self, "handle", None), "value", None), None)
    _originals["cached_op_del"](self)


def _cached_op_call(self, *args, **kwargs):
    if _armed is not None:
        # A graph made before install() is unknown: while armed, refuse it rather than trust it.
        _check_graph(_cached_op_graphs.get(self.handle.value, _armed.forbidden_names), N_("a hybridized graph"))
    return _originals["cached_op_call"](self, *args, **kwargs)


def _executor_init(self, *args, **kwargs):
    _originals["executor_init"](self, *args, **kwargs)
    if _armed is not None:
        _check_graph(_graph_ops(self._symbol), N_("a bound symbol"))


def _executor_forward(self, *args, **kwargs):
    if _armed is not None:
        _check_graph(_graph_ops(self._symbol), N_("a bound symbol"))
    return _originals["executor_forward"](self, *args, **kwargs)


def _infer_shape(self, *args, **kwargs):
    if _armed is not None:
        _check_graph(_graph_ops(self), "a symbol's shape inference")
    return _originals["infer_shape"](self, *args, **kwargs)


def _hooks():
    """(name, holder, attribute, wrapper) of every hook; holder is a dict (module globals) or a class."""
    import mxnet._ctypes.ndarray as ctypes_ndarray
    import mxnet.executor as executor
    import mxnet.ndarray._internal as nd_internal
    import mxnet.ndarray.register as nd_register
    import mxnet.symbol._internal as sym_internal
    import mxnet.symbol.register as sym_register
    import mxnet.symbol.symbol as symbol

    return [
        ("invoke", vars(nd_register), "_imperative_invoke", _guarded_invoke),
        ("invoke_internal", vars(nd_internal), "_imperative_invoke", _guarded_invoke),
        ("invoke_ctypes", vars(ctypes_ndarray), "_imperative_invoke", _guarded_invoke),
        ("symbol_creator", vars(sym_register), "_symbol_creator", _guarded_symbol_creator),
        ("symbol_creator_internal", vars(sym_internal), "_symbol_creator", _guarded_symbol_creator),
        ("cached_op_init", ctypes_ndarray.CachedOp, "__init__", _cached_op_init),
        ("cached_op_del", ctypes_ndarray.CachedOp, "__del__", _cached_op_del),
        ("cached_op_call", ctypes_ndarray.CachedOp, "__call__", _cached_op_call),
        ("executor_init", executor.Executor, "__init__", _executor_init),
        ("executor_forward", executor.Executor, "forward", _executor_forward),
        ("infer_shape", symbol.Symbol, "_infer_shape_impl", _infer_shape),
    ]


def _get(holder, attribute):
    return holder.get(attribute) if isinstance(holder, dict) else holder.__dict__.get(attribute)


def install():
    """Wrap MXNet's routes to its operators (once per process; forks inherit it)."""
    if _installed:
        return
    import mxnet._ctypes.ndarray as ctypes_ndarray
    if not hasattr(ctypes_ndarray, "_imperative_invoke"):
        raise RuntimeError("MXNet does not use its ctypes operator calls here (Cython build?): the "
                           "exercise rules cannot be enforced")
    with _lock:
        for name, holder, attribute, wrapper in _hooks():
            original = _get(holder, attribute)
            if name.startswith("invoke"):
                _originals.setdefault("invoke", original)
            elif name.startswith("symbol_creator"):
                _originals.setdefault("symbol_creator", original)
            else:
                _originals[name] = original
            if isinstance(holder, dict):
                holder[attribute] = wrapper
            else:
                setattr(holder, attribute, functools.wraps(original)(wrapper) if callable(original) else wrapper)
            _installed[name] = (holder, attribute, _get(holder, attribute))


def intact():
    """Names of the hooks whose wrapper was replaced since install() (empty when all is well)."""
    return [name for name, (holder, attribute, wrapper) in _installed.items() if _get(holder, attribute) is not wrapper]


@contextmanager
def armed(forbidden, allowed=(), via=(), via_forbidden=False, counted=()):
    """While in the block, calling an operator named in ``forbidden`` (MXNet names, aliases
    included) raises RuleBroken, unless its caller is one of the code objects ``allowed``,
    directly or through code objects of ``via``. Yields the _Arming; its ``violation`` says
    what was used, even if the code under test caught the exception, and its ``count`` how many
    times operators named in ``counted`` ran (imperatively)."""
    global _armed, _forbidden_handles, _watch_every_operator
    install()
    arming = _Arming(forbidden, allowed, via, via_forbidden, counted)
    saved = _armed, _forbidden_handles, _watch_every_operator
    _armed, _forbidden_handles, _watch_every_operator = arming, arming.handles | arming.counted, via_forbidden
    try:
        yield arming
    finally:
        _armed, _forbidden_handles, _watch_every_operator = saved


# ------------------------------------------------------------------ the source rule

# Names an answer has no reason to write: MXNet's private machinery, ctypes, the grader's own
# state, and the usual ways of reaching someone else's globals or code.
PRIVATE_NAMES = frozenset({
    "_LIB", "_imperative_invoke", "_symbol_creator", "_ctypes", "ctypes", "cdll", "CDLL", "_ffi",
    "NNGetOpHandle", "MXImperativeInvoke", "MXImperativeInvokeEx", "MXInvokeCachedOpEx",
    "_guarded_invoke", "_forbidden_handles", "_armed", "_originals", "_installed",
    "__code__", "__globals__", "__closure__", "__builtins__", "FunctionType", "CodeType",
    "f_globals", "f_locals", "f_back", "f_code", "_getframe", "gc", "get_referrers", "get_objects",
})
PRIVATE_MODULES = ("grader.guard", "grader.rules", "ctypes", "_ctypes", "mxnet._ctypes", "mxnet.base", "mxnet._ffi", "gc")


def _private_module(name):
    return any(name == m or name.startswith(m + ".") for m in PRIVATE_MODULES)


def source_problems(source):
    """What in ``source`` (a notebook cell's code) reaches for internals: a list of short
    descriptions, empty when nothing does. Code that does not parse is left to run (and fail)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in PRIVATE_NAMES:
            found.append(node.id)
        elif isinstance(node, ast.Attribute):
            if node.attr in PRIVATE_NAMES:
                found.append(node.attr)
            elif node.attr == "modules" and isinstance(node.value, ast.Name) and node.value.id == "sys":
                found.append("sys.modules")
            elif node.attr in ("guard", "rules") and isinstance(node.value, ast.Name) and node.value.id == "grader":
                found.append(f"grader.{node.attr}")
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if _private_module(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            module = ("." * node.level) + (node.module or "")
            if _private_module(module) or node.level:
                found.append(module)
            else:
                found += [alias.name for alias in node.names
                          if alias.name in PRIVATE_NAMES or _private_module(f"{module}.{alias.name}")]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 200:
            found += [_("the string {text}").format(text=repr(node.value)) for name in PRIVATE_NAMES | set(PRIVATE_MODULES)
                      if len(name) > 3 and name in node.value][:1]
    return list(dict.fromkeys(found))
