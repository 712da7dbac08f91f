"""Plain data across the sandbox wall: the only things a student's kernel and the grader exchange.

Both sides use this module: the sandbox runner encodes what a student's function returned, the
grader encodes the instructor's inputs. Nothing here ever evaluates code or unpickles: a decoder
builds ``None``/``bool``/``int``/``float``/``complex``/``str``, lists, tuples, dicts, sets, plain
``numpy.ndarray`` (numeric dtypes only, never a subclass), numpy scalars, random generators from
their bit-generator state and seed sequence (so ``rng.spawn`` gives the same children on both
sides), and SymPy expressions rebuilt node by node from an allow-list of SymPy classes (never
``sympify``/``eval``).

The encoder (the sandbox's side, for what a student returns) first turns the other honest forms of
those values into them: any other number (``Fraction``, ``Decimal``) into a float, any other
container (``collections.deque``, ``array.array``, ``range``, dict views, a generator, a mapping or
sequence class) into a list or dict, an object with ``__array__`` into an array, a SymPy N-dim
array or sparse matrix into a dense ``Matrix`` (rank 2) or nested lists. Anything else arrives as a
:class:`Returned` namespace of its public data attributes, or as an :class:`Unreadable` marker.

Limits (:class:`Limits`) bound the depth, the number of items and the size of every message, so a
hostile answer costs the grader a bounded amount of memory and time.

    >>> decode(encode({"a": (1, 2.5), "b": [None, "x"]}))
    {'a': (1, 2.5), 'b': [None, 'x']}
"""

from __future__ import annotations

import ast
import base64
import collections.abc
import itertools
import json
import math
import numbers
from dataclasses import dataclass

__all__ = [
    "Limits",
    "Returned",
    "Unreadable",
    "GlobalRef",
    "encode",
    "decode",
    "dumps",
    "loads",
    "CodecError",
]

# numeric dtypes that cross the wall (little-endian byte strings); objects never do
_DTYPES = {"|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "<f2", "<f4", "<f8", "<c8", "<c16"}


class CodecError(ValueError):
    """A message broke a limit or does not follow the format."""


@dataclass(frozen=True)
class Limits:
    """How much one message may hold."""

    max_depth: int = 40
    max_items: int = 2_000_000
    max_bytes: int = 64 * 2**20
    max_attrs: int = 64
    max_sympy_chars: int = 200_000
    max_sympy_nodes: int = 20_000
    max_sympy_total_chars: int = 400_000  # all SymPy expressions of one message together


DEFAULT = Limits()


@dataclass(frozen=True)
class GlobalRef:
    """An argument that names a global of the sandbox (e.g. a helper function the instructor's
    setup cell defines there too), resolved on the other side."""

    name: str


class Returned:
    """What arrives for an object that is not plain data: its class name and public data
    attributes (``got.start``, ``got.trans`` of a returned model)."""

    def __init__(self, type_name: str, attrs: dict):
        self.__dict__.update(attrs)
        self._type_name = type_name

    def __repr__(self) -> str:
        names = ", ".join(k for k in self.__dict__ if not k.startswith("_"))
        return f"<{self._type_name} object with {names or 'no data attributes'}>"


@dataclass(frozen=True)
class Unreadable:
    """A value that cannot cross the wall (a function, a file, a generator ...)."""

    type_name: str

    def __repr__(self) -> str:
        return f"<unreadable {self.type_name}>"


# ------------------------------------------------------------------------------------------ encode


def encode(value, limits: Limits = DEFAULT, *, globals_of=None):
    """``value`` as JSON-ready data. ``globals_of(obj)`` may name a sandbox global standing for a
    callable argument (the grader's side); a callable it does not name cannot be sent."""
    budget = [limits.max_items]
    return _enc(value, limits, 0, budget, globals_of)


def _spend(limits, depth, budget) -> None:
    """One more item at ``depth``: refuse a message past the item or depth limit."""
    budget[0] -= 1
    if budget[0] < 0:
        raise CodecError(f"more than {limits.max_items} items")
    if depth > limits.max_depth:
        raise CodecError(f"nested deeper than {limits.max_depth} levels")


def _enc(x, limits, depth, budget, globals_of):
    _spend(limits, depth, budget)
    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, int):
        return x if abs(x) < 2**63 else {"$int": str(x)}
    if isinstance(x, float):
        return x if math.isfinite(x) else {"$float": repr(x)}
    if isinstance(x, complex):
        return {
            "$complex": [
                _enc(x.real, limits, depth + 1, budget, None),
                _enc(x.imag, limits, depth + 1, budget, None),
            ]
        }
    if isinstance(x, GlobalRef):
        return {"$global": x.name}
    np = _numpy()
    if np is not None:
        if isinstance(x, np.ndarray) or isinstance(x, np.generic):
            return _enc_array(np, x, limits, depth, budget, globals_of)
        if isinstance(x, np.random.Generator):
            return _enc_rng(np, x, limits, depth, budget)
    sympy_node = _enc_sympy(x, limits, depth, budget, globals_of)
    if sympy_node is not None:
        return sympy_node
    if isinstance(x, list):
        return [_enc(v, limits, depth + 1, budget, globals_of) for v in x]
    if isinstance(x, tuple):
        return {"$tuple": [_enc(v, limits, depth + 1, budget, globals_of) for v in x]}
    if isinstance(x, (set, frozenset)):
        return {"$set": [_enc(v, limits, depth + 1, budget, globals_of) for v in x]}
    if isinstance(x, dict):
        return {
            "$dict": [
                [
                    _enc(k, limits, depth + 1, budget, globals_of),
                    _enc(v, limits, depth + 1, budget, globals_of),
                ]
                for k, v in x.items()
            ]
        }
    if callable(x) and globals_of is not None and (name := globals_of(x)) is not None:
        return {"$global": name}
    if callable(x) or type(x).__module__ in ("io", "_io"):  # a function, a file
        return {"$unreadable": _type_name(x)}
    plain = _as_plain(x, np, limits, budget)
    if plain is not _NOT_PLAIN:
        return _enc(plain, limits, depth, budget, globals_of)
    if type(x).__module__ == "builtins":
        return {"$unreadable": _type_name(x)}
    return _enc_object(x, limits, depth, budget)


_NOT_PLAIN = object()


def _as_plain(x, np, limits, budget):
    """The plain value an honest answer of another type stands for (see the module docstring), or
    ``_NOT_PLAIN``. Only standard protocols are used: numbers, mappings, sequences, sets, iterators,
    the buffer protocol and ``__array__``; an iterator is read at most up to the item limit."""
    if isinstance(x, (bytes, bytearray, str)):
        return _NOT_PLAIN
    if isinstance(x, numbers.Number):  # Fraction, Decimal, ... (int/float/complex are handled before)
        try:
            return complex(x) if isinstance(x, numbers.Complex) and not isinstance(x, numbers.Real) else float(x)
        except (TypeError, ValueError, OverflowError, ArithmeticError):
            return _NOT_PLAIN
    if isinstance(x, collections.abc.Mapping):
        return dict(_bounded(x.items(), limits, budget))
    if np is not None and (isinstance(x, memoryview) or hasattr(x, "__array__") or hasattr(x, "__array_interface__")
                           or type(x).__module__ == "array"):
        try:
            arr = np.asarray(x)
        except Exception:  # noqa: BLE001 - a broken __array__ is simply not an array
            return _NOT_PLAIN
        return arr if isinstance(arr, np.ndarray) and arr.dtype != object else _NOT_PLAIN
    if isinstance(x, (collections.abc.Sequence, collections.abc.Set, collections.abc.Iterator,
                      collections.abc.MappingView, range)):
        return list(_bounded(x, limits, budget))
    return _NOT_PLAIN


def _bounded(items, limits, budget):
    """The first items of an iterable, refusing one longer than the message may hold."""
    out = list(itertools.islice(iter(items), max(budget[0], 0) + 1))
    if len(out) > budget[0]:
        raise CodecError(f"more than {limits.max_items} items")
    return out


def _enc_rng(np, x, limits, depth, budget):
    """A generator as its bit generator's name and state, and the seed sequence it came from (if
    any), which ``spawn`` and ``bit_generator.seed_seq`` read."""
    node = {
        "$rng": type(x.bit_generator).__name__,
        "state": _enc(x.bit_generator.state, limits, depth + 1, budget, None),
    }
    seq = getattr(x.bit_generator, "seed_seq", None)
    if isinstance(seq, np.random.SeedSequence):
        node["seed_seq"] = _enc(
            {
                "entropy": seq.entropy,
                "spawn_key": list(seq.spawn_key),
                "pool_size": seq.pool_size,
                "n_children_spawned": seq.n_children_spawned,
            },
            limits,
            depth + 1,
            budget,
            None,
        )
    return node


def _enc_array(np, x, limits, depth, budget, globals_of):
    arr = np.asarray(x)
    if type(arr) is not np.ndarray:
        arr = arr.view(np.ndarray)
    if arr.dtype == object:
        budget[0] -= arr.size
        if budget[0] < 0:
            raise CodecError(f"more than {limits.max_items} items")
        items = [_enc(v, limits, depth + 1, budget, globals_of) for v in arr.ravel().tolist()]
        return {"$ndobj": list(arr.shape), "items": items}
    dt = arr.dtype.newbyteorder("<") if arr.dtype.byteorder == ">" else arr.dtype
    if dt.str not in _DTYPES:
        try:
            arr = arr.astype(float)
        except (TypeError, ValueError):
            return {"$unreadable": f"array of {arr.dtype}"}
        dt = arr.dtype
    if arr.nbytes > limits.max_bytes:
        raise CodecError(f"an array of {arr.nbytes} bytes (limit {limits.max_bytes})")
    data = np.ascontiguousarray(arr, dtype=dt).tobytes()
    node = {"$nd": dt.str, "shape": list(arr.shape), "b64": base64.b64encode(data).decode("ascii")}
    if isinstance(x, np.generic):
        node["scalar"] = True
    return node


def _enc_sympy(x, limits, depth, budget, globals_of):
    sympy = _sympy()
    if sympy is None:
        return None
    if isinstance(x, sympy.NDimArray):  # e.g. derive_by_array's Hessian: a Matrix, or nested lists
        if x.rank() == 0:
            return _enc(x[()], limits, depth, budget, globals_of)
        dense = sympy.ImmutableDenseMatrix(x.tolist()) if x.rank() == 2 else x.tolist()
        return _enc(dense, limits, depth, budget, globals_of)
    if isinstance(x, sympy.MatrixBase) and not isinstance(x, sympy.matrices.dense.DenseMatrix):
        x = sympy.ImmutableDenseMatrix(x)  # a sparse matrix: the same entries, densely
    if isinstance(x, (sympy.Basic, sympy.MatrixBase)):
        text = sympy.srepr(x)
        if len(text) > limits.max_sympy_chars:
            raise CodecError(f"a SymPy expression of {len(text)} characters")
        return {"$sympy": text}
    return None


def _enc_object(x, limits, depth, budget):
    attrs = {}
    for name in sorted(getattr(x, "__dict__", {}) or {}) + _property_names(x):
        if name.startswith("_") or name in attrs or len(attrs) >= limits.max_attrs:
            continue
        try:
            value = getattr(x, name)
        except Exception:  # a property that raises is simply not sent
            continue
        if callable(value) and not _is_data(value):
            continue
        try:
            attrs[name] = _enc(value, limits, depth + 1, budget, None)
        except CodecError:
            raise
        except Exception:
            attrs[name] = {"$unreadable": _type_name(value)}
    return {"$obj": _type_name(x), "attrs": attrs}


def _property_names(x) -> list[str]:
    names = []
    for klass in type(x).__mro__:
        for name, member in vars(klass).items():
            if isinstance(member, property) and name not in names:
                names.append(name)
    return sorted(names)


def _is_data(value) -> bool:
    np = _numpy()
    return np is not None and isinstance(value, (np.ndarray, np.generic))


def _type_name(x) -> str:
    return type(x).__name__[:80]


# ------------------------------------------------------------------------------------------ decode


def decode(node, limits: Limits = DEFAULT, *, resolve_global=None):
    """The value ``node`` stands for (see the module docstring). ``resolve_global(name)`` turns a
    ``{"$global": name}`` into the object it names (the sandbox's side); without it a
    :class:`GlobalRef` is returned."""
    budget = [limits.max_items]
    return _dec(node, limits, 0, budget, resolve_global)


def _dec(node, limits, depth, budget, resolve_global):
    _spend(limits, depth, budget)
    if node is None or isinstance(node, (bool, str)):
        return node
    if isinstance(node, int):
        return node
    if isinstance(node, float):
        return node
    sub = lambda v: _dec(v, limits, depth + 1, budget, resolve_global)  # noqa: E731
    if isinstance(node, list):
        return [sub(v) for v in node]
    if not isinstance(node, dict) or len(node) == 0:
        raise CodecError(f"unexpected {type(node).__name__}")
    tag = next(iter(node))
    if tag == "$tuple":
        return tuple(sub(v) for v in _list(node[tag]))
    if tag == "$set":
        return {_hashable(sub(v)) for v in _list(node[tag])}
    if tag == "$dict":
        out = {}
        for pair in _list(node[tag]):
            if not (isinstance(pair, list) and len(pair) == 2):
                raise CodecError("a dict entry is not a pair")
            out[_hashable(sub(pair[0]))] = sub(pair[1])
        return out
    if tag == "$int":
        text = _str(node[tag])
        if len(text) > 4000:
            raise CodecError("an integer with more than 4000 digits")
        return int(text)
    if tag == "$float":
        text = _str(node[tag])
        if text not in ("nan", "inf", "-inf"):
            raise CodecError("a float that is not nan/inf")
        return float(text)
    if tag == "$complex":
        parts = _list(node[tag])
        if len(parts) != 2:
            raise CodecError("a complex number needs two parts")
        re_, im_ = (sub(p) for p in parts)
        if not all(isinstance(p, (int, float)) for p in (re_, im_)):
            raise CodecError("a complex number of non-numbers")
        return complex(re_, im_)
    if tag == "$global":
        name = _str(node[tag])
        return resolve_global(name) if resolve_global else GlobalRef(name)
    if tag == "$unreadable":
        return Unreadable(_str(node[tag])[:80])
    if tag == "$nd":
        return _dec_array(node, limits)
    if tag == "$ndobj":
        np = _numpy()
        shape = _shape(node[tag])
        items = [sub(v) for v in _list(node.get("items"))]
        if math.prod(shape) != len(items):
            raise CodecError("an object array whose items do not fill its shape")
        arr = np.empty(len(items), dtype=object)
        for i, v in enumerate(items):
            arr[i] = v
        return arr.reshape(shape)
    if tag == "$rng":
        return _dec_rng(node, limits, depth, budget)
    if tag == "$sympy":
        text = _str(node[tag])
        budget.append(len(text))  # running total of SymPy text in this message
        if sum(budget[1:]) > limits.max_sympy_total_chars:
            raise CodecError(f"more than {limits.max_sympy_total_chars} characters of SymPy in one answer")
        return sympy_from_srepr(text, limits)
    if tag == "$obj":
        attrs = node.get("attrs")
        if not isinstance(attrs, dict) or len(attrs) > limits.max_attrs:
            raise CodecError("an object's attributes are malformed")
        clean = {}
        for k, v in attrs.items():
            if not (isinstance(k, str) and k.isidentifier() and not k.startswith("_")):
                raise CodecError("an attribute name that is not a public identifier")
            clean[k] = sub(v)
        return Returned(_str(node[tag])[:80], clean)
    raise CodecError(f"unknown tag {tag[:20]!r}")


def _dec_array(node, limits):
    np = _numpy()
    dtype, shape, data = _str(node["$nd"]), _shape(node.get("shape")), _str(node.get("b64"))
    if dtype not in _DTYPES:
        raise CodecError(f"dtype {dtype[:10]!r} is not allowed")
    if len(data) > limits.max_bytes * 4 // 3 + 4:
        raise CodecError("an array larger than the message limit")
    raw = base64.b64decode(data, validate=True)
    dt = np.dtype(dtype)
    if math.prod(shape) * dt.itemsize != len(raw):
        raise CodecError("an array whose bytes do not match its shape")
    arr = np.frombuffer(raw, dtype=dt).reshape(shape).copy()
    return arr[()] if node.get("scalar") is True and arr.ndim == 0 else arr


def _dec_rng(node, limits, depth, budget):
    np = _numpy()
    kind = _str(node["$rng"])
    if kind not in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"):
        raise CodecError(f"bit generator {kind[:20]!r} is not allowed")
    state = _dec(node.get("state"), limits, depth + 1, budget, None)
    seq = None
    if "seed_seq" in node:
        seq = _dec_seed_seq(np, _dec(node["seed_seq"], limits, depth + 1, budget, None))
    bitgen = getattr(np.random, kind)(seq)
    try:
        bitgen.state = state
    except (TypeError, ValueError, KeyError) as exc:
        raise CodecError(f"a random generator state that does not fit: {type(exc).__name__}") from None
    return np.random.Generator(bitgen)


def _dec_seed_seq(np, fields):
    """A ``SeedSequence`` from its four fields, each checked (small non-negative integers)."""

    def count(v, high):
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < high:
            raise CodecError("a seed sequence with a malformed field")
        return v

    if not isinstance(fields, dict) or set(fields) != {"entropy", "spawn_key", "pool_size", "n_children_spawned"}:
        raise CodecError("a malformed seed sequence")
    entropy = fields["entropy"]
    if isinstance(entropy, (list, tuple)):
        if len(entropy) > 1024:
            raise CodecError("a seed sequence with too much entropy")
        entropy = [count(e, 2**256) for e in entropy]
    elif entropy is not None:
        entropy = count(entropy, 2**1024)
    key = fields["spawn_key"]
    if not isinstance(key, list) or len(key) > 64:
        raise CodecError("a seed sequence with a malformed spawn key")
    try:
        return np.random.SeedSequence(
            entropy,
            spawn_key=tuple(count(k, 2**64) for k in key),
            pool_size=count(fields["pool_size"], 1025),
            n_children_spawned=count(fields["n_children_spawned"], 2**63),
        )
    except (TypeError, ValueError) as exc:
        raise CodecError(f"a seed sequence that does not fit: {type(exc).__name__}") from None


def _list(v) -> list:
    if not isinstance(v, list):
        raise CodecError("expected a list")
    return v


def _str(v) -> str:
    if not isinstance(v, str):
        raise CodecError("expected a string")
    return v


def _shape(v) -> tuple[int, ...]:
    if not (isinstance(v, list) and len(v) <= 32 and all(isinstance(n, int) and 0 <= n < 2**40 for n in v)):
        raise CodecError("a malformed shape")
    return tuple(v)


def _hashable(v):
    try:
        hash(v)
    except TypeError:
        raise CodecError(f"an unhashable key of type {type(v).__name__}") from None
    return v


# ----------------------------------------------------------------------------- SymPy, safely rebuilt

_SYMPY_NAMES = (
    "Symbol",
    "Dummy",
    "Wild",
    "Integer",
    "Rational",
    "Float",
    "Add",
    "Mul",
    "Pow",
    "log",
    "exp",
    "sqrt",
    "Abs",
    "sign",
    "Max",
    "Min",
    "Eq",
    "Ne",
    "Lt",
    "Le",
    "Gt",
    "Ge",
    "StrictLessThan",
    "StrictGreaterThan",
    "LessThan",
    "GreaterThan",
    "Equality",
    "Unequality",
    "Tuple",
    "Piecewise",
    "ExprCondPair",
    "Matrix",
    "MutableDenseMatrix",
    "ImmutableDenseMatrix",
    "Half",
    "One",
    "Zero",
    "NegativeOne",
    "Infinity",
    "NegativeInfinity",
    "ComplexInfinity",
    "NaN",
    "Pi",
    "Exp1",
    "ImaginaryUnit",
    "Sum",
    "Product",
    "Derivative",
    "Integral",
    "Function",
    "Lambda",
    "KroneckerDelta",
    "IndexedBase",
    "Indexed",
    "Idx",
    "BooleanTrue",
    "BooleanFalse",
    "And",
    "Or",
    "Not",
    "gamma",
    "factorial",
    "binomial",
    "sin",
    "cos",
    "tan",
    "FiniteSet",
    "Interval",
    "Dict",
    "Str",
    "EmptySet",
    "Reals",
)


def sympy_from_srepr(text: str, limits: Limits = DEFAULT):
    """Rebuild the SymPy object whose ``srepr`` is ``text`` without evaluating any code: the text
    is parsed as a Python expression and only calls of allow-listed SymPy names with literal
    arguments are carried out, unevaluated (``sympy.evaluate(False)``), so no ``eval``, no
    attribute access and no arithmetic on huge numbers happen here."""
    import sympy

    if len(text) > limits.max_sympy_chars:
        raise CodecError("a SymPy expression longer than the limit")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise CodecError("a SymPy expression that does not parse") from None
    nodes = sum(1 for _ in ast.walk(tree))
    if nodes > limits.max_sympy_nodes:
        raise CodecError("a SymPy expression with too many nodes")
    table = {name: getattr(sympy, name) for name in _SYMPY_NAMES if hasattr(sympy, name)}

    def build(node, depth=0):
        if depth > 200:
            raise CodecError("a SymPy expression nested too deeply")
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool, type(None))):
            if isinstance(node.value, int) and abs(node.value) > 10**4000:
                raise CodecError("an integer that is too large")
            return node.value
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant)
        ):
            return -build(node.operand, depth + 1)
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [build(e, depth + 1) for e in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.Dict):
            return {
                build(k, depth + 1): build(v, depth + 1) for k, v in zip(node.keys, node.values, strict=True)
            }
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in table:
                target = table[func.id]
            elif isinstance(func, ast.Call):  # Function('f')(x): an undefined function applied
                target = build(func, depth + 1)
                if not isinstance(target, sympy.core.function.UndefinedFunction):
                    raise CodecError("only an undefined Function may be applied")
            else:
                raise CodecError("a call of a name that is not an allowed SymPy class")
            args = [build(a, depth + 1) for a in node.args]
            kwargs = {}
            for kw in node.keywords:
                if kw.arg is None:
                    raise CodecError("**kwargs in a SymPy expression")
                kwargs[kw.arg] = build(kw.value, depth + 1)
            try:
                return target(*args, **kwargs)
            except (TypeError, ValueError, AttributeError) as exc:
                raise CodecError(f"a SymPy node that cannot be built: {type(exc).__name__}") from None
        raise CodecError(f"a {type(node).__name__} node in a SymPy expression")

    with sympy.evaluate(False):
        return build(tree.body)


# ----------------------------------------------------------------------------------------- framing


def dumps(node, limits: Limits = DEFAULT) -> bytes:
    """A message: 8-byte big-endian length, then UTF-8 JSON."""
    body = json.dumps(node, allow_nan=False, separators=(",", ":")).encode()
    if len(body) > limits.max_bytes:
        raise CodecError(f"a message of {len(body)} bytes (limit {limits.max_bytes})")
    return len(body).to_bytes(8, "big") + body


def loads(body: bytes, limits: Limits = DEFAULT):
    """The JSON of one message body (the length prefix already read)."""
    if len(body) > limits.max_bytes:
        raise CodecError("a message larger than the limit")
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:
        raise CodecError(f"a message that is not JSON: {type(exc).__name__}") from None


def _no_constants(name):
    raise CodecError(f"bare {name} in a message")


def _numpy():
    try:
        import numpy
    except ImportError:  # pragma: no cover - numpy is always there in emlab
        return None
    return numpy


def _sympy():
    import sys

    return sys.modules.get("sympy")  # only if something already imported it: never import it here
