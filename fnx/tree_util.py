"""``jax.tree_util`` under its JAX names, over :mod:`fnx.tree` (one registry, one flattening).

``tree_map``, ``tree_leaves``, ``tree_flatten``... are :mod:`fnx.tree`'s
functions. Key paths follow JAX: each step is a key object, :class:`DictKey`
(a dict entry), :class:`SequenceKey` (a list or tuple position),
:class:`GetAttrKey` (a namedtuple field, a dataclass field or a Module
attribute) or :class:`FlattenedIndexKey` (a child of a node registered
without keys), and :func:`keystr` prints a path as ``"['a'][0].w"``. (The
paths of :func:`fnx.tree.leaves_with_path` are the bare keys instead.)

>>> import fnx
>>> from fnx import tree_util
>>> tree_util.tree_map(lambda x: x * 2, {"a": [1, (2,)], "b": 3})
{'a': [2, (4,)], 'b': 6}
>>> [tree_util.keystr(p) for p, _ in tree_util.tree_flatten_with_path({"a": [1, 2]})[0]]
["['a'][0]", "['a'][1]"]
"""
import collections
import functools
from collections import namedtuple
from typing import Tuple, Union

from .core import tree as _tree
from .core.tree import TreeDef as PyTreeDef
from .errors import TreeError

__all__ = ["DictKey", "FlattenedIndexKey", "GetAttrKey", "SequenceKey", "KeyEntry", "KeyPath", "Partial", "PyTreeDef",
           "all_leaves", "flatten_one_level", "flatten_one_level_with_keys", "tree_broadcast",
           "tree_reduce_associative",
           "keystr", "register_dataclass", "register_pytree_node", "register_pytree_node_class",
           "register_pytree_with_keys", "register_pytree_with_keys_class", "register_static", "tree_all",
           "tree_flatten", "tree_flatten_with_path", "tree_leaves", "tree_leaves_with_path", "tree_map",
           "tree_map_with_path", "tree_reduce", "tree_structure", "tree_transpose", "tree_unflatten",
           "treedef_children", "treedef_is_leaf", "treedef_tuple"]

tree_flatten = _tree.flatten
tree_unflatten = _tree.unflatten
tree_leaves = _tree.leaves
tree_structure = _tree.structure
tree_map = _tree.map
tree_reduce = _tree.reduce
register_dataclass = _tree.register_dataclass


def tree_all(tree, *, is_leaf=None):
    """Whether every leaf is truthy (True for an empty tree)."""
    return _tree.all(tree, is_leaf)


# ----- keys ------------------------------------------------------------------------------------------

class DictKey(namedtuple("DictKey", ["key"])):
    """The step into a dict entry: ``['a']``."""
    __slots__ = ()

    def __str__(self):
        return f"[{self.key!r}]"


class SequenceKey(namedtuple("SequenceKey", ["idx"])):
    """The step into a list or tuple position: ``[0]``."""
    __slots__ = ()

    def __str__(self):
        return f"[{self.idx!r}]"


class GetAttrKey(namedtuple("GetAttrKey", ["name"])):
    """The step into an attribute (a namedtuple or dataclass field, a Module's child): ``.w``."""
    __slots__ = ()

    def __str__(self):
        return f".{self.name}"


class FlattenedIndexKey(namedtuple("FlattenedIndexKey", ["key"])):
    """The step into the ``key``-th child of a node registered without keys: ``[<flat index 0>]``, as JAX
    prints it."""
    __slots__ = ()

    def __str__(self):
        return f"[<flat index {self.key}>]"


_KEY_TYPES = (DictKey, SequenceKey, GetAttrKey, FlattenedIndexKey)


def _simple(k):
    return str(k.key if isinstance(k, (DictKey, FlattenedIndexKey)) else k.idx if isinstance(k, SequenceKey)
               else k.name if isinstance(k, GetAttrKey) else k)


def keystr(keys, *, simple=False, separator=None):
    """A key path as text: ``"['a'][0].w"``, or with ``simple=True`` the bare keys joined by ``separator``
    (``"a/0/w"`` for ``separator="/"``; none by default).

    >>> from fnx.tree_util import keystr, DictKey, SequenceKey
    >>> keystr((DictKey("a"), SequenceKey(0))), keystr((DictKey("a"), SequenceKey(0)), simple=True, separator="/")
    ("['a'][0]", 'a/0')
    """
    if simple:
        return ("" if separator is None else separator).join(_simple(k) for k in keys)
    return ("" if separator is None else separator).join(str(k) for k in keys)


def _paths(x, prefix, out, is_leaf):
    if is_leaf is not None and is_leaf(x):
        out.append((prefix, x))
        return
    kind = _tree._node_of(x)
    if kind is False:
        out.append((prefix, x))
    elif kind is None:
        return
    elif kind is dict:
        for key in sorted(x):
            _paths(x[key], prefix + (DictKey(key),), out, is_leaf)
    elif kind is tuple or kind is list:
        for i, c in enumerate(x):
            _paths(c, prefix + (SequenceKey(i),), out, is_leaf)
    elif kind is namedtuple:
        for name, c in zip(x._fields, x):
            _paths(c, prefix + (GetAttrKey(name),), out, is_leaf)
    else:
        children, _, keys = _tree._nodes[kind][0](x)
        for key, c in zip(keys, children):
            step = key if isinstance(key, _KEY_TYPES) else GetAttrKey(key) if isinstance(key, str) else \
                FlattenedIndexKey(key)
            _paths(c, prefix + (step,), out, is_leaf)


def tree_leaves_with_path(tree, is_leaf=None):
    """``[(key_path, leaf)]``, each path a tuple of key objects."""
    out = []
    _paths(tree, (), out, is_leaf)
    return out


def tree_flatten_with_path(tree, is_leaf=None):
    """``([(key_path, leaf)], treedef)``."""
    return tree_leaves_with_path(tree, is_leaf), tree_structure(tree, is_leaf)


def tree_map_with_path(f, tree, *rest, is_leaf=None):
    """``f(key_path, leaf, *others)`` leaf-wise; ``rest`` trees have ``tree``'s structure or have it as a prefix."""
    pairs, treedef = tree_flatten_with_path(tree, is_leaf)
    others = []
    for r in rest:
        r_flat, r_def = tree_flatten(r, is_leaf)
        if r_def != treedef:
            try:
                r_flat = treedef.flatten_up_to(r)
            except TreeError as e:
                raise TreeError(f"tree_map_with_path: structures differ: {treedef} and {r_def} ({e})") from None
        others.append(r_flat)
    return treedef.unflatten([f(p, x, *o) for (p, x), *o in zip(pairs, *others)])


KeyEntry = Union[DictKey, SequenceKey, GetAttrKey, FlattenedIndexKey]
KeyPath = Tuple[KeyEntry, ...]


def _one_level(fname, tree, is_leaf):
    """``(children, aux, keys)`` of the node at the top of ``tree``."""
    kind = _tree._node_of(tree)
    if kind is False or (is_leaf is not None and is_leaf(tree)):
        raise TreeError(f"{fname}: {type(tree).__name__} is a leaf, not a pytree node")
    if kind is None:
        return (), None, ()
    if kind is dict:
        keys = sorted(tree)
        return tuple(tree[k] for k in keys), tuple(keys), tuple(DictKey(k) for k in keys)
    if kind is tuple or kind is list:
        return tuple(tree), None, tuple(SequenceKey(i) for i in range(len(tree)))
    if kind is namedtuple:
        return tuple(tree), type(tree), tuple(GetAttrKey(f) for f in tree._fields)
    children, aux, keys = _tree._nodes[kind][0](tree)
    return tuple(children), aux, tuple(k if isinstance(k, _KEY_TYPES) else GetAttrKey(k) if isinstance(k, str)
                                       else FlattenedIndexKey(k) for k in keys)


def flatten_one_level(tree, is_leaf=None):
    """``(children, aux)`` of the top node of ``tree`` (a TreeError, a ValueError, for a leaf).

    >>> from fnx.tree_util import flatten_one_level
    >>> flatten_one_level({"b": 3, "a": [1, 2]})
    (([1, 2], 3), ('a', 'b'))
    """
    children, aux, _ = _one_level("flatten_one_level", tree, is_leaf)
    return children, aux


def flatten_one_level_with_keys(tree, is_leaf=None):
    """``(((key, child), ...), aux)`` of the top node of ``tree``."""
    children, aux, keys = _one_level("flatten_one_level_with_keys", tree, is_leaf)
    return tuple(zip(keys, children)), aux


def tree_broadcast(prefix_tree, full_tree, is_leaf=None):
    """``prefix_tree`` with each of its leaves repeated over the matching subtree of ``full_tree``.

    >>> from fnx.tree_util import tree_broadcast
    >>> tree_broadcast([1, {"a": 2}], [[3, 4], {"a": (5, 6)}])
    [[1, 1], {'a': (2, 2)}]
    """
    full_def = tree_structure(full_tree, is_leaf)
    pairs = tree_leaves(prefix_tree, is_leaf)
    prefix_def = tree_structure(prefix_tree, is_leaf)
    out = []

    def walk(p_def, f_def):
        if p_def.kind is False:
            out.extend([next(it)] * f_def.num_leaves)
            return
        if p_def.kind is not f_def.kind or p_def.aux != f_def.aux or len(p_def.subtrees) != len(f_def.subtrees):
            raise TreeError(f"tree_broadcast: {prefix_def} is not a prefix of {full_def}")
        for a, b in zip(p_def.subtrees, f_def.subtrees):
            walk(a, b)
    it = iter(pairs)
    walk(prefix_def, full_def)
    return full_def.unflatten(out)


_NO_IDENTITY = object()


def tree_reduce_associative(operation, tree, *, identity=_NO_IDENTITY, is_leaf=None):
    """The leaves combined by the associative ``operation`` pairwise, as a balanced tree (so that the depth of
    nested calls is logarithmic); ``identity`` is the result for a tree without leaves.

    >>> import operator
    >>> from fnx.tree_util import tree_reduce_associative
    >>> tree_reduce_associative(operator.add, [1, (2, 3), {"a": 4}])
    10
    """
    items = tree_leaves(tree, is_leaf)
    if not items:
        if identity is _NO_IDENTITY:
            raise TypeError("tree_reduce_associative: the tree has no leaves; pass identity= for it")
        return identity
    while len(items) > 1:
        pairs = [operation(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]
        items = pairs + ([items[-1]] if len(items) % 2 else [])
    return items[0]


# ----- registration --------------------------------------------------------------------------------

def register_pytree_node(nodetype, flatten_func, unflatten_func, flatten_with_keys_func=None):
    """Registers ``nodetype``: ``flatten_func(x) -> (children, aux)``, ``unflatten_func(aux, children) -> x``,
    and optionally ``flatten_with_keys_func(x) -> (((key, child), ...), aux)`` for key paths."""
    def keys(x):
        return [k for k, _ in flatten_with_keys_func(x)[0]]
    _tree.register_node(nodetype, flatten_func, unflatten_func, None if flatten_with_keys_func is None else keys)
    return nodetype


def register_pytree_with_keys(nodetype, flatten_with_keys, unflatten_func, flatten_func=None):
    """Registers ``nodetype`` from ``flatten_with_keys(x) -> (((key, child), ...), aux)``."""
    if flatten_func is None:
        def flatten_func(x):
            pairs, aux = flatten_with_keys(x)
            return [c for _, c in pairs], aux
    return register_pytree_node(nodetype, flatten_func, unflatten_func, flatten_with_keys)


def register_pytree_node_class(cls):
    """Class decorator: ``x.tree_flatten() -> (children, aux)`` and ``cls.tree_unflatten(aux, children)``.

    >>> import fnx
    >>> @fnx.tree_util.register_pytree_node_class
    ... class Box:
    ...     def __init__(self, v): self.v = v
    ...     def tree_flatten(self): return (self.v,), None
    ...     @classmethod
    ...     def tree_unflatten(cls, aux, children): return cls(*children)
    >>> fnx.tree_util.tree_leaves([Box(1), Box(2)])
    [1, 2]
    """
    return register_pytree_node(cls, lambda x: x.tree_flatten(), cls.tree_unflatten)


def register_pytree_with_keys_class(cls):
    """Class decorator: ``x.tree_flatten_with_keys()`` and ``cls.tree_unflatten(aux, children)``."""
    flatten = (lambda x: x.tree_flatten()) if hasattr(cls, "tree_flatten") else None
    return register_pytree_with_keys(cls, lambda x: x.tree_flatten_with_keys(), cls.tree_unflatten, flatten)


def register_static(cls):
    """Makes instances of ``cls`` nodes without children: the whole object is static (hashable) structure."""
    return register_pytree_node(cls, lambda x: ((), x), lambda aux, _: aux)


# ----- tree definitions ----------------------------------------------------------------------------------

def treedef_children(treedef):
    """The tree definitions of ``treedef``'s children."""
    return list(treedef.subtrees)


def treedef_is_leaf(treedef):
    """Whether ``treedef`` is one node with no children: a leaf, or None (as JAX counts it)."""
    return treedef.num_nodes == 1


def treedef_tuple(treedefs):
    """The tree definition of a tuple of trees with these definitions."""
    return PyTreeDef(tuple, None, list(treedefs))


def all_leaves(iterable, is_leaf=None):
    """Whether every element of ``iterable`` is a leaf."""
    return all(tree_structure(x, is_leaf).kind is False for x in iterable)


def tree_transpose(outer_treedef, inner_treedef, pytree_to_transpose):
    """An outer tree of inner trees turned into an inner tree of outer trees.

    >>> from fnx.tree_util import tree_structure, tree_transpose
    >>> tree_transpose(tree_structure([0, 0]), tree_structure((0, 0)), [(1, 2), (3, 4)])
    ([1, 3], [2, 4])

    ``inner_treedef`` None is the structure of the first inner tree, as in JAX.
    """
    if inner_treedef is None:
        inners = outer_treedef.flatten_up_to(pytree_to_transpose)
        if not inners:
            raise TreeError("tree_transpose: inner_treedef=None needs an outer structure with at least one leaf")
        inner_treedef = tree_structure(inners[0])
    flat, treedef = tree_flatten(pytree_to_transpose)
    n_in, n_out = inner_treedef.num_leaves, outer_treedef.num_leaves
    expected = _compose(outer_treedef, inner_treedef)
    if treedef != expected:
        raise TreeError(f"tree_transpose: the tree {treedef} is not the outer structure {outer_treedef} holding "
                        f"the inner structure {inner_treedef} ({expected})")
    groups = [flat[i * n_in:(i + 1) * n_in] for i in range(n_out)]
    return inner_treedef.unflatten([outer_treedef.unflatten([g[j] for g in groups]) for j in range(n_in)])


def _compose(outer, inner):
    if outer.kind is False:
        return inner
    return PyTreeDef(outer.kind, outer.aux, [_compose(c, inner) for c in outer.subtrees])


# ----- Partial --------------------------------------------------------------------------------------------

class Partial(functools.partial):
    """``functools.partial`` that is a pytree: the bound arguments are children, the function is static, so a
    partially applied function can pass through ``jit``, ``vmap`` and ``grad`` as an argument.

    >>> import fnx
    >>> p = fnx.tree_util.Partial(lambda a, b: a + b, 1.0)
    >>> p(2.0), fnx.tree_util.tree_leaves(p)
    (3.0, [1.0])
    """

    def __new__(cls, func, *args, **kwargs):
        if isinstance(func, functools.partial):  # flatten nested partials so the function stays the static part
            args = func.args + args
            kwargs = {**func.keywords, **kwargs}
            func = func.func
        return super().__new__(cls, func, *args, **kwargs)


def _partial_flatten(p):
    return (p.args, p.keywords), p.func


def _partial_unflatten(func, children):
    args, keywords = children
    return Partial(func, *args, **keywords)


register_pytree_node(Partial, _partial_flatten, _partial_unflatten,
                     lambda p: (((GetAttrKey("args"), p.args), (GetAttrKey("keywords"), p.keywords)), p.func))


# collections' dicts are nodes, as in JAX: an OrderedDict (a state_dict) keeps its insertion order, a
# defaultdict sorts its keys like a dict and keeps its default_factory.
register_pytree_with_keys(
    collections.OrderedDict,
    lambda d: (tuple((DictKey(k), v) for k, v in d.items()), tuple(d)),
    lambda keys, children: collections.OrderedDict(zip(keys, children)))
register_pytree_with_keys(
    collections.defaultdict,
    lambda d: (tuple((DictKey(k), d[k]) for k in sorted(d)), (d.default_factory, tuple(sorted(d)))),
    lambda aux, children: collections.defaultdict(aux[0], zip(aux[1], children)))
