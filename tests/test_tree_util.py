"""fnx.tree_util: jax.tree_util's names over fnx.tree, with JAX's key objects in paths."""
import dataclasses
from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given, strategies as st

import fnx
import fnx.numpy as fnp
from fnx import tree_util as tu
from fnx.errors import TreeError

Point = namedtuple("Point", ["x", "y"])

leaves_st = st.integers(-5, 5)
trees = st.recursive(leaves_st, lambda c: st.one_of(
    st.lists(c, max_size=3), st.tuples(c, c), st.dictionaries(st.sampled_from("abc"), c, max_size=3),
    st.builds(Point, c, c)), max_leaves=8)


@given(trees)
def test_flatten_roundtrip_and_aliases(tree):
    leaves, treedef = tu.tree_flatten(tree)
    assert tu.tree_unflatten(treedef, leaves) == tree
    assert tu.tree_leaves(tree) == leaves == fnx.tree.leaves(tree)
    assert tu.tree_structure(tree) == treedef
    assert tu.tree_map(lambda v: v * 2, tree) == fnx.tree.map(lambda v: v * 2, tree)
    assert tu.tree_reduce(lambda a, b: a + b, tree, 0) == sum(leaves)
    assert tu.tree_all(tree) == all(leaves)


@given(trees)
def test_paths_lead_to_their_leaves(tree):
    pairs, treedef = tu.tree_flatten_with_path(tree)
    assert [leaf for _, leaf in pairs] == tu.tree_leaves(tree) and treedef == tu.tree_structure(tree)
    for path, leaf in pairs:
        node = tree
        for k in path:
            node = (node[k.key] if isinstance(k, tu.DictKey) else node[k.idx] if isinstance(k, tu.SequenceKey)
                    else getattr(node, k.name))
        assert node == leaf
    assert tu.tree_leaves_with_path(tree) == pairs


def test_key_objects_and_keystr():
    pairs = tu.tree_leaves_with_path({"a": [1, (2,)], "b": Point(3, 4)})
    assert [p for p, _ in pairs] == [
        (tu.DictKey("a"), tu.SequenceKey(0)), (tu.DictKey("a"), tu.SequenceKey(1), tu.SequenceKey(0)),
        (tu.DictKey("b"), tu.GetAttrKey("x")), (tu.DictKey("b"), tu.GetAttrKey("y"))]
    assert [tu.keystr(p) for p, _ in pairs] == ["['a'][0]", "['a'][1][0]", "['b'].x", "['b'].y"]
    assert [tu.keystr(p, simple=True, separator="/") for p, _ in pairs] == ["a/0", "a/1/0", "b/x", "b/y"]


def test_keystr_matches_jax():
    jtu = pytest.importorskip("jax.tree_util")
    tree = {"a": [1, (2,)], "b": Point(3, 4)}
    ours = [(tu.keystr(p), tu.keystr(p, simple=True, separator=".")) for p, _ in tu.tree_leaves_with_path(tree)]
    theirs = [(jtu.keystr(p), jtu.keystr(p, simple=True, separator="."))
              for p, _ in jtu.tree_leaves_with_path(tree)]
    assert ours == theirs


def test_map_with_path():
    out = tu.tree_map_with_path(lambda p, x, y: (tu.keystr(p), x + y), {"a": 1, "b": [2]}, {"a": 10, "b": [20]})
    assert out == {"a": ("['a']", 11), "b": [("['b'][0]", 22)]}
    with pytest.raises(TreeError):
        tu.tree_map_with_path(lambda p, x, y: x, {"a": 1}, {"b": 1})


def test_register_pytree_node_class_and_keys():
    @tu.register_pytree_node_class
    class Box:
        def __init__(self, v, tag):
            self.v, self.tag = v, tag

        def tree_flatten(self):
            return (self.v,), self.tag

        @classmethod
        def tree_unflatten(cls, aux, children):
            return cls(children[0], aux)

    b = tu.tree_map(lambda x: x + 1, Box([1, 2], "t"))
    assert (b.v, b.tag) == ([2, 3], "t")
    assert [p for p, _ in tu.tree_leaves_with_path(Box(5, "t"))] == [(tu.FlattenedIndexKey(0),)]
    assert float(fnx.grad(lambda bx: bx.v * 3.0)(Box(1.0, "t")).v) == 3.0

    class Pair:
        def __init__(self, a, b):
            self.a, self.b = a, b

    tu.register_pytree_with_keys(Pair, lambda p: (((tu.GetAttrKey("a"), p.a), (tu.GetAttrKey("b"), p.b)), None),
                                 lambda aux, ch: Pair(*ch))
    assert [tu.keystr(p) for p, _ in tu.tree_leaves_with_path({"k": Pair(1, 2)})] == ["['k'].a", "['k'].b"]
    assert tu.tree_leaves(Pair(1, [2, 3])) == [1, 2, 3]


def test_dataclass_paths_use_attribute_keys():
    @tu.register_dataclass
    @dataclasses.dataclass
    class P:
        w: object
        b: object

    assert [tu.keystr(p) for p, _ in tu.tree_leaves_with_path(P(1, 2))] == [".w", ".b"]


def test_register_static():
    @tu.register_static
    @dataclasses.dataclass(frozen=True)
    class Config:
        n: int

    assert tu.tree_leaves([Config(3), 1]) == [1]
    assert tu.tree_map(lambda x: x + 1, [Config(3), 1]) == [Config(3), 2]


def test_treedef_helpers_and_transpose():
    td = tu.tree_structure(([1, 2], {"a": 3}))
    assert tu.treedef_children(td) == [tu.tree_structure([1, 2]), tu.tree_structure({"a": 3})]
    assert tu.treedef_is_leaf(tu.tree_structure(1)) and not tu.treedef_is_leaf(td)
    assert tu.treedef_tuple([tu.tree_structure(1), tu.tree_structure([1])]) == tu.tree_structure((0, [0]))
    assert tu.all_leaves([1, 2.0]) and not tu.all_leaves([1, [2]])
    outer, inner = tu.tree_structure([0, 0, 0]), tu.tree_structure({"a": 0, "b": 0})
    got = tu.tree_transpose(outer, inner, [{"a": 1, "b": 2}, {"a": 3, "b": 4}, {"a": 5, "b": 6}])
    assert got == {"a": [1, 3, 5], "b": [2, 4, 6]}
    with pytest.raises(TreeError, match="tree_transpose"):
        tu.tree_transpose(outer, inner, [{"a": 1, "b": 2}])


def test_partial_is_a_pytree_through_transforms():
    p = tu.Partial(lambda a, x, *, scale: scale * a * x, fnp.asarray([1.0, 2.0]), scale=fnp.asarray(3.0))
    assert len(tu.tree_leaves(p)) == 2
    x = fnp.asarray([1.0, 1.0])
    np.testing.assert_allclose(np.asarray(fnx.jit(lambda f, x: f(x))(p, x)), [3.0, 6.0])
    g = fnx.grad(lambda f: fnp.sum(f(x)))(p)
    assert isinstance(g, tu.Partial)
    np.testing.assert_allclose(np.asarray(g.args[0]), [3.0, 3.0])
    nested = tu.Partial(tu.Partial(lambda a, b, c: a + b + c, 1), 2)
    assert nested(3) == 6 and tu.tree_leaves(nested) == [1, 2]


def test_one_level_flattening():
    assert tu.flatten_one_level({"b": 3, "a": [1, 2]}) == (([1, 2], 3), ("a", "b"))
    assert tu.flatten_one_level((1, [2])) == ((1, [2]), None)
    assert tu.flatten_one_level(None) == ((), None)
    assert tu.flatten_one_level(Point(1, 2)) == ((1, 2), Point)
    assert tu.flatten_one_level_with_keys({"a": [1], "b": 2}) == (
        ((tu.DictKey("a"), [1]), (tu.DictKey("b"), 2)), ("a", "b"))
    with pytest.raises(ValueError, match="leaf"):
        tu.flatten_one_level(1)


@given(trees)
def test_broadcast_of_the_tree_itself_and_of_a_leaf(tree):
    assert tu.tree_broadcast(tree, tree) == tree
    assert tu.tree_leaves(tu.tree_broadcast(7, tree)) == [7] * len(tu.tree_leaves(tree))


def test_tree_broadcast():
    assert tu.tree_broadcast([1, {"a": 2}], [[3, 4], {"a": (5, 6)}]) == [[1, 1], {"a": (2, 2)}]
    with pytest.raises(TreeError, match="prefix"):
        tu.tree_broadcast([1, 2], (3, 4))


@given(st.lists(st.text(max_size=2), max_size=9))
def test_reduce_associative(words):
    if not words:
        with pytest.raises(TypeError, match="identity"):
            tu.tree_reduce_associative(lambda a, b: a + b, words)
        assert tu.tree_reduce_associative(lambda a, b: a + b, words, identity="") == ""
    else:  # string concatenation is associative but not commutative: the order must be kept
        assert tu.tree_reduce_associative(lambda a, b: a + b, words) == "".join(words)


def test_reduce_associative_is_balanced():
    depth = []

    def op(a, b):
        d = max(a, b) + 1
        depth.append(d)
        return d
    tu.tree_reduce_associative(op, [0] * 16)
    assert max(depth) == 4


def test_ordered_and_default_dicts_are_nodes_as_in_jax():
    from collections import OrderedDict, defaultdict
    ordered = OrderedDict(b=1.0, a=2.0)
    assert tu.tree_leaves(ordered) == [1.0, 2.0]  # insertion order, not sorted
    doubled = tu.tree_map(lambda x: x * 2, ordered)
    assert type(doubled) is OrderedDict and list(doubled.items()) == [("b", 2.0), ("a", 4.0)]
    assert [tu.keystr(p) for p, _ in tu.tree_leaves_with_path(ordered)] == ["['b']", "['a']"]
    counts = defaultdict(list, b=1.0, a=[2.0])
    assert tu.tree_leaves(counts) == [2.0, 1.0]  # sorted keys, as a dict
    rebuilt = tu.tree_map(lambda x: -x, counts)
    assert type(rebuilt) is defaultdict and rebuilt.default_factory is list and rebuilt == {"a": [-2.0], "b": -1.0}
    assert tu.tree_structure(OrderedDict(a=1)) != tu.tree_structure({"a": 1})
    # A module's state_dict is an OrderedDict: differentiable as a pytree of arrays.
    model = fnx.nn.Linear(2, 1)
    grads = fnx.grad(lambda sd: fnx.numpy.sum(sd["weight"] ** 2) + fnx.numpy.sum(sd["bias"]))(model.state_dict())
    assert type(grads) is OrderedDict and list(grads) == ["weight", "bias"]


def test_treedefs_print_as_jax_prints_them():
    from collections import OrderedDict, namedtuple
    Point = namedtuple("Point", "x y")
    assert repr(tu.tree_structure({"a": [1, (2,)], "b": None})) == "PyTreeDef({'a': [*, (*,)], 'b': None})"
    assert repr(tu.tree_structure(Point(1, [2]))) == "PyTreeDef(CustomNode(namedtuple[Point], [*, [*]]))"
    assert repr(tu.tree_structure(OrderedDict(b=1))) == "PyTreeDef(CustomNode(OrderedDict[('b',)], [*]))"
    assert repr(tu.tree_structure(1)) == "PyTreeDef(*)"
    assert str(tu.FlattenedIndexKey(0)) == "[<flat index 0>]"
    jax = pytest.importorskip("jax")
    for tree in ({"a": [1, (2,)], "b": None}, Point(1, [2]), OrderedDict(b=1, a=[2])):
        assert repr(tu.tree_structure(tree)) == repr(jax.tree_util.tree_structure(tree))


# ----- prefixes, PyTreeDef's methods, static dataclass fields ---------------------------------------------


def test_map_takes_extra_trees_that_have_the_first_as_a_prefix():
    params = {"w": fnp.ones(2), "b": fnp.zeros(1)}
    state = {"w": {"m": 1.0, "v": 2.0}, "b": {"m": 3.0, "v": 4.0}}
    out = fnx.tree_util.tree_map(lambda p, s: s["m"] + s["v"], params, state)
    assert out == {"w": 3.0, "b": 7.0}
    assert fnx.tree.map(lambda x, y: x, [1, 2], [1, None]) == [1, 2]
    assert fnx.tree_util.tree_map_with_path(lambda path, x, y: y, [1, 2], [(5,), None]) == [(5,), None]
    with pytest.raises(fnx.errors.TreeError, match="prefix"):
        fnx.tree.map(lambda x, y: x, [1, 2], [1])
    with pytest.raises(ValueError, match="keys"):
        fnx.tree.map(lambda x, y: x, {"a": 1}, {"b": 1})


def test_treedef_methods_match_jax():
    import collections
    jax = pytest.importorskip("jax")
    point = collections.namedtuple("point", "x y")
    for tree in [{"a": (1, 2), "b": None}, [1, [2, 3]], point(1, (2, 3)), None, 1, ()]:
        ours, theirs = fnx.tree_util.tree_structure(tree), jax.tree_util.tree_structure(tree)
        assert [str(c) for c in ours.children()] == [str(c) for c in theirs.children()]
        assert ours.num_nodes == theirs.num_nodes and ours.num_leaves == theirs.num_leaves
        assert ours.node_data() == theirs.node_data()
        assert fnx.tree_util.treedef_is_leaf(ours) == jax.tree_util.treedef_is_leaf(theirs)
    deeper = {"a": ([3], {"k": 4}), "b": None}
    assert (fnx.tree_util.tree_structure({"a": (1, 2), "b": None}).flatten_up_to(deeper)
            == jax.tree_util.tree_structure({"a": (1, 2), "b": None}).flatten_up_to(deeper))


def test_register_dataclass_reads_static_fields_from_metadata():
    import dataclasses

    @fnx.tree_util.register_dataclass
    @dataclasses.dataclass
    class Layer:
        w: object
        width: int = dataclasses.field(metadata=dict(static=True), default=3)

    layer = Layer(fnp.ones(2))
    assert fnx.tree_util.tree_leaves(layer) == [layer.w]
    g = fnx.grad(lambda m: fnp.sum(m.w) * m.width)(layer)
    assert g.width == 3 and np.allclose(np.asarray(g.w), 3.0)


def test_register_dataclass_names_every_field_and_rebuilds_through_the_constructor_as_jax():
    import dataclasses

    @dataclasses.dataclass
    class Box:
        x: object
        y: object
        name: str = "n"
        total: float = dataclasses.field(init=False, default=0.0)

        def __post_init__(self):
            self.total = self.x + 1.0  # derived: recomputed for a rebuilt box, as JAX's unflatten calls Box(...)

    with pytest.raises(ValueError, match=r"missing \['y'\]"):  # y would be lost by every tree.map
        fnx.tree_util.register_dataclass(Box, data_fields=["x"], meta_fields=["name"])
    with pytest.raises(ValueError, match=r"unexpected \['total'\]"):  # not a constructor argument
        fnx.tree_util.register_dataclass(Box, data_fields=["x", "y", "total"], meta_fields=["name"])
    fnx.tree_util.register_dataclass(Box, data_fields=["x", "y"], meta_fields=["name"])
    doubled = fnx.tree.map(lambda v: v * 2, Box(1.0, [2.0], "q"))
    assert (doubled.x, doubled.y, doubled.name, doubled.total) == (2.0, [4.0], "q", 3.0)


def test_fnx_tree_has_every_name_of_jax_tree():
    jax = pytest.importorskip("jax")
    missing = {n for n in dir(jax.tree) if not n.startswith("_")} - {n for n in dir(fnx.tree) if not n.startswith("_")}
    assert not missing
    assert fnx.tree.transpose(fnx.tree.structure([0, 0]), fnx.tree.structure((0, 0)), [(1, 2), (3, 4)]) == \
        jax.tree.transpose(jax.tree.structure([0, 0]), jax.tree.structure((0, 0)), [(1, 2), (3, 4)])
    t = [(1, {"a": 2}), (3, {"a": 4})]  # inner_treedef None: the first inner tree's structure
    assert fnx.tree.transpose(fnx.tree.structure([0, 0]), None, t) == jax.tree.transpose(
        jax.tree.structure([0, 0]), None, t)
    assert fnx.tree.broadcast([1, 2], [(0, 0), 0]) == jax.tree.broadcast([1, 2], [(0, 0), 0])
    assert fnx.tree.reduce_associative(lambda a, b: a + b, [1, 2, 3]) == 6

    @fnx.tree_util.register_dataclass
    @dataclasses.dataclass
    class Op:
        x: object
        kind: str = fnx.tree.static(default="add")
    assert fnx.tree.leaves(Op(1.0)) == [1.0] and dataclasses.fields(Op)[1].metadata["static"]


def test_fnx_tree_imports_as_a_module():
    import importlib
    assert importlib.import_module("fnx.tree") is fnx.tree
    from fnx.tree import map as tree_map
    assert tree_map(lambda x: x + 1, [1]) == [2]
