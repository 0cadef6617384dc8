"""Pytrees: flatten/unflatten round trips, registration, key paths."""
import dataclasses
from collections import namedtuple

import pytest
from hypothesis import given, strategies as st

import fnx
from fnx.errors import TreeError

leaves_st = st.integers()
trees = st.recursive(
    st.one_of(leaves_st, st.none()),
    lambda children: st.one_of(st.lists(children, max_size=3), st.tuples(children, children),
                               st.dictionaries(st.text("abc", min_size=1, max_size=2), children, max_size=3)),
    max_leaves=10)


@given(trees)
def test_flatten_unflatten_round_trip(tree):
    leaves, treedef = fnx.tree.flatten(tree)
    assert fnx.tree.unflatten(treedef, leaves) == tree
    assert treedef.num_leaves == len(leaves)
    assert fnx.tree.map(lambda x: x, tree) == tree


def test_dict_order_is_sorted_and_none_is_empty():
    assert fnx.tree.leaves({"b": 1, "a": 2, "c": None}) == [2, 1]


def test_namedtuple_and_registered_classes():
    P = namedtuple("P", "x y")
    assert fnx.tree.map(lambda v: v * 2, P(1, [2])) == P(2, [4])

    @fnx.tree.register_dataclass(meta_fields=["label"])
    @dataclasses.dataclass
    class Box:
        value: object
        label: str = "box"

    b = fnx.tree.map(lambda v: v + 1, Box([1, 2]))
    assert isinstance(b, Box) and b.value == [2, 3]
    with pytest.raises(ValueError, match="already"):
        fnx.tree.register_dataclass(Box)


def test_a_registered_node_is_rebuilt_from_a_tuple_of_children_as_in_jax():
    class Pair:
        def __init__(self, a, b):
            self.a, self.b = a, b
    seen = []

    def unflatten(aux, children):
        seen.append(type(children))
        return Pair(*children)
    fnx.tree_util.register_pytree_node(Pair, lambda p: ((p.a, p.b), None), unflatten)
    assert fnx.tree.leaves(fnx.tree.map(lambda v: v + 1, Pair(1, 2))) == [2, 3]
    assert seen == [tuple]


def test_meta_fields_are_static():
    @fnx.tree.register_dataclass
    @dataclasses.dataclass
    class Layer:
        w: object
        name: str

    Layer2 = fnx.tree.register_dataclass(
        dataclasses.make_dataclass("Layer2", ["w", "name"]), meta_fields=["name"])
    assert fnx.tree.leaves(Layer(1, "x")) == [1, "x"]
    assert fnx.tree.leaves(Layer2(1, "x")) == [1]
    assert fnx.tree.structure(Layer2(1, "x")) != fnx.tree.structure(Layer2(1, "y"))


def test_map_rejects_mismatched_structures():
    with pytest.raises(TreeError, match="structures differ"):
        fnx.tree.map(lambda a, b: a, [1, 2], (1, 2))
    with pytest.raises(ValueError):
        fnx.tree.map(lambda a, b: a, {"a": 1}, {"b": 1})


def test_paths():
    from fnx.tree_util import DictKey, SequenceKey, keystr
    tree = {"layer": [10, {"w": 20}], "b": 30}
    assert fnx.tree.leaves_with_path(tree) == [((DictKey("b"),), 30), ((DictKey("layer"), SequenceKey(0)), 10),
                                               ((DictKey("layer"), SequenceKey(1), DictKey("w")), 20)]
    # As jax.tree's: key objects, so that p[-1].key and keystr work
    assert fnx.tree.map_with_path(lambda p, x: p[-1].key, {"dense": {"bias": 1.0}}) == {"dense": {"bias": "bias"}}
    joined = fnx.tree.map_with_path(lambda p, x, y: keystr(p) + str(x + y), {"a": [1]}, {"a": [2]})
    assert joined == {"a": ["['a'][0]3"]}


def test_is_leaf_stops_descent():
    assert fnx.tree.leaves([[1, 2], [3]], is_leaf=lambda x: isinstance(x, list) and len(x) == 1) == [1, 2, [3]]


def test_leaf_types_are_leaves_until_registered_as_nodes():
    from fnx.core import tree as tree_impl
    assert fnx.Array in tree_impl._leaf_types  # arrays take the one-lookup path
    x = fnx.numpy.ones(2)
    leaves, treedef = fnx.tree.flatten({"b": x, "a": [1.5, "s"]})
    assert leaves[0] == 1.5 and leaves[1] == "s" and leaves[2] is x and treedef.num_leaves == 3

    class Box:
        def __init__(self, v):
            self.v = v
    tree_impl.register_leaf_type(Box)
    assert fnx.tree.leaves([Box(1)])[0].v == 1
    fnx.tree.register_node(Box, lambda b: ((b.v,), None), lambda aux, ch: Box(*ch))
    assert fnx.tree.leaves([Box(1)]) == [1]  # a node now: registering took it out of the leaf types
    with pytest.raises(TreeError, match="registered as a pytree node"):
        tree_impl.register_leaf_type(Box)


def test_reduce_all_and_flatten_with_path_follow_jax_tree():
    import functools
    t = {"b": (3, {"c": 4}), "a": [1, 2]}
    assert fnx.tree.reduce(lambda a, b: a * 10 + b, t) == functools.reduce(lambda a, b: a * 10 + b, [1, 2, 3, 4])
    assert fnx.tree.reduce(lambda a, b: a + b, t, 100) == 110
    assert fnx.tree.reduce(lambda a, b: a + b, [], 0) == 0
    assert fnx.tree.all(t) and not fnx.tree.all({"a": [1, 0]}) and fnx.tree.all([])
    pairs, treedef = fnx.tree.flatten_with_path(t)
    assert [(tuple(getattr(k, "key", getattr(k, "idx", None)) for k in p), x) for p, x in pairs] == \
        [(("a", 0), 1), (("a", 1), 2), (("b", 0), 3), (("b", 1, "c"), 4)]
    assert treedef == fnx.tree.structure(t)
