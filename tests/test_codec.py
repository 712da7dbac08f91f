"""The grader's codec (tools/grading/codec.py): what a student's function returns arrives as the
plain value it stands for, whatever honest type carried it, and a malformed message is refused.

Each case is a round trip through the real wire format (``encode`` → ``dumps`` → ``loads`` →
``decode``), as between the sandbox and the grader.
"""

from __future__ import annotations

import array
import collections
import decimal
import fractions
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools" / "grading"))
import codec  # noqa: E402


def wire(value):
    return codec.decode(codec.loads(codec.dumps(codec.encode(value))[8:]))


def test_a_generator_keeps_its_seed_sequence_so_spawn_gives_the_same_children():
    """A student may draw from ``rng.spawn(n)`` children (one stream per run): the sandbox's copy of the
    grader's generator must spawn the children the original spawns, on every call."""
    for make in (lambda: np.random.default_rng(81), lambda: np.random.Generator(np.random.Philox(7))):
        here, there, again = make(), wire(make()), wire(make())
        want = [child.random(3).tolist() for child in here.spawn(3)]
        assert [child.random(3).tolist() for child in there.spawn(3)] == want
        assert [child.random(3).tolist() for child in again.spawn(3)] == want
        assert there.bit_generator.seed_seq.entropy == here.bit_generator.seed_seq.entropy
        assert make().random(5).tolist() == wire(make()).random(5).tolist()


def test_a_spawned_child_and_a_used_generator_cross_as_they_are():
    parent = np.random.default_rng([1, 2, 3])
    child = parent.spawn(2)[1]
    child.random(4)
    copy = wire(child)
    assert copy.bit_generator.seed_seq.spawn_key == child.bit_generator.seed_seq.spawn_key == (1,)
    assert copy.random(3).tolist() == child.random(3).tolist()
    assert [c.random() for c in copy.spawn(2)] == [c.random() for c in child.spawn(2)]


@pytest.mark.parametrize(
    "seed_seq",
    [
        "x",
        [],
        {"entropy": 1, "spawn_key": [], "pool_size": 4},
        {"entropy": 1, "spawn_key": [-1], "pool_size": 4, "n_children_spawned": 0},
        {"entropy": 1.5, "spawn_key": [], "pool_size": 4, "n_children_spawned": 0},
        {"entropy": 1, "spawn_key": "ab", "pool_size": 4, "n_children_spawned": 0},
        {"entropy": 1, "spawn_key": [], "pool_size": 10**9, "n_children_spawned": 0},
        {"entropy": 1, "spawn_key": [], "pool_size": 1, "n_children_spawned": 0},
        {"entropy": [1] * 5000, "spawn_key": [], "pool_size": 4, "n_children_spawned": 0},
        {"entropy": 1, "spawn_key": [0] * 100, "pool_size": 4, "n_children_spawned": 0},
        {"entropy": True, "spawn_key": [], "pool_size": 4, "n_children_spawned": 0},
    ],
)
def test_a_malformed_seed_sequence_is_refused(seed_seq):
    node = codec.encode(np.random.default_rng(0))
    node["seed_seq"] = codec.encode(seed_seq)
    with pytest.raises(codec.CodecError):
        codec.decode(node)


def _gen():
    yield from (0.5, 0.25)


class _Seq(collections.abc.Sequence):
    def __getitem__(self, i):
        return [3.0, 4.0][i]

    def __len__(self):
        return 2


class _HasArray:
    def __array__(self, dtype=None, copy=None):
        return np.array([1.0, 2.0])


@pytest.mark.parametrize(
    "value, want",
    [
        (collections.deque([0.1, 0.2]), [0.1, 0.2]),
        (range(3), [0, 1, 2]),
        ({"a": 1}.keys(), ["a"]),
        ({"a": 1}.values(), [1]),
        (_gen(), [0.5, 0.25]),
        (map(float, [1, 2]), [1.0, 2.0]),
        (_Seq(), [3.0, 4.0]),
        (collections.UserList([1, 2]), [1, 2]),
        (types.MappingProxyType({"k": 2.0}), {"k": 2.0}),
        (collections.UserDict(k=2.0), {"k": 2.0}),
        (fractions.Fraction(1, 4), 0.25),
        (decimal.Decimal("0.125"), 0.125),
        ([fractions.Fraction(1, 2), decimal.Decimal(2)], [0.5, 2.0]),
        (collections.Counter("aab"), {"a": 2, "b": 1}),
    ],
)
def test_honest_containers_and_numbers_arrive_as_plain_values(value, want):
    got = wire(value)
    assert got == want and type(got) is type(want)


@pytest.mark.parametrize(
    "value, want",
    [
        (array.array("d", [1.5, 2.5]), [1.5, 2.5]),
        (array.array("i", [1, 2]), [1, 2]),
        (memoryview(np.arange(3.0)), [0.0, 1.0, 2.0]),
        (_HasArray(), [1.0, 2.0]),
    ],
)
def test_array_like_answers_arrive_as_arrays(value, want):
    got = wire(value)
    assert type(got) is np.ndarray and got.tolist() == want


def test_an_object_array_of_fractions_arrives_as_numbers():
    got = wire(np.array([fractions.Fraction(1, 3), fractions.Fraction(2, 3)], dtype=object))
    assert got.tolist() == pytest.approx([1 / 3, 2 / 3], rel=1e-15)


def test_sympy_arrays_and_sparse_matrices_arrive_as_dense_matrices_or_lists():
    """derive_by_array builds a Hessian as an N-dim array; a SparseMatrix is another honest form."""
    x, y = sp.symbols("x y")
    hessian = sp.derive_by_array(sp.derive_by_array(x**2 * y, (x, y)), (x, y))
    got = wire(hessian)
    assert isinstance(got, sp.MatrixBase)
    assert sp.simplify(got - sp.Matrix([[2 * y, 2 * x], [2 * x, 0]])) == sp.zeros(2)
    sparse = wire(sp.SparseMatrix(2, 2, {(0, 0): x, (1, 1): 1}))
    assert isinstance(sparse, sp.MatrixBase) and sparse == sp.Matrix([[x, 0], [0, 1]])
    assert wire(sp.Array([x, y])) == [x, y]
    assert wire(sp.Array(x)) == x
    cube = wire(sp.derive_by_array(hessian, (x, y)))
    assert np.shape(np.array(cube, dtype=object)) == (2, 2, 2)


def test_an_endless_iterator_is_refused_at_the_item_limit():
    def endless():
        while True:
            yield 1

    with pytest.raises(codec.CodecError, match="items"):
        codec.encode(endless(), codec.Limits(max_items=1000))


def test_a_model_object_still_arrives_with_its_data_attributes():
    class Model:
        def __init__(self):
            self.start = np.array([0.5, 0.5])
            self.name = "hmm"

    class BrokenArray(Model):
        def __array__(self, dtype=None, copy=None):
            raise RuntimeError("not an array")

    for value in (Model(), BrokenArray()):
        got = wire(value)
        assert isinstance(got, codec.Returned) and got.start.tolist() == [0.5, 0.5] and got.name == "hmm"


def test_functions_files_and_bytes_stay_unreadable():
    for value in (len, lambda: 1, b"abc", open(__file__)):  # noqa: SIM115 - closed by the GC
        assert isinstance(wire(value), codec.Unreadable)
