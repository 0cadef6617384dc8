"""Pytrees: nested containers of arrays that transforms take and return.

A pytree is a leaf or a container node whose children are pytrees. Built-in
nodes are tuple, list, dict (children in sorted key order, as JAX does),
namedtuple and None (a node with no children); ``fnx.tree_util`` adds
``OrderedDict`` (insertion order) and ``defaultdict``, as JAX has them, and
``register_node`` and ``register_dataclass`` add user types. ``flatten`` returns the leaves and a
:class:`TreeDef` that ``unflatten`` uses to rebuild the same structure.
"""
import builtins
import dataclasses
import functools
import itertools
from collections import namedtuple

from ..errors import TreeError

_nodes = {}  # type -> (flatten(x) -> (children, aux, keys), unflatten(aux, children) -> x)
_leaf_types = {int, float, bool, complex, str}  # exact types that are always leaves: checked first


def register_leaf_type(cls):
    """Makes instances of exactly ``cls`` leaves without further checks (fnx's Array registers itself)."""
    if cls in _nodes:
        raise TreeError(f"register_leaf_type: {cls.__name__} is registered as a pytree node")
    _leaf_types.add(cls)


def register_node(cls, flatten, unflatten, flatten_with_keys=None):
    """Registers ``cls`` as a pytree node.

    ``flatten(x) -> (children, aux)`` and ``unflatten(aux, children) -> x``;
    ``aux`` is static and must be hashable and comparable.

    >>> import fnx
    >>> class Pair:
    ...     def __init__(self, a, b): self.a, self.b = a, b
    >>> _ = fnx.tree.register_node(Pair, lambda p: ((p.a, p.b), None), lambda aux, ch: Pair(*ch))
    >>> fnx.tree.leaves(Pair(1, [2, 3]))
    [1, 2, 3]
    """
    _leaf_types.discard(cls)
    if cls in _nodes:
        raise ValueError(f"register_node: {cls.__name__} is already a registered pytree node")

    def flat(x):
        children, aux = flatten(x)
        children = list(children)
        keys = flatten_with_keys(x) if flatten_with_keys else list(range(len(children)))
        return children, aux, keys

    _nodes[cls] = (flat, unflatten)
    return cls


def register_dataclass(cls=None, *, data_fields=None, meta_fields=None, drop_fields=()):
    """Registers a dataclass: ``data_fields`` are children, ``meta_fields`` static (``jax.tree_util``'s).

    Usable as a decorator. Without either list, as in JAX, a field declared with
    ``dataclasses.field(metadata=dict(static=True))`` is static and every other
    field is a data field; with one list, the other fields are the other kind.
    Between them the lists must name every field the constructor takes (but
    ``drop_fields``), as JAX requires: a field left out would be lost. An object
    is rebuilt by calling the class, so ``__post_init__`` runs again.
    """
    if cls is None:
        return lambda c: register_dataclass(c, data_fields=data_fields, meta_fields=meta_fields,
                                            drop_fields=drop_fields)
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"register_dataclass: {cls.__name__} is not a dataclass")
    init_fields = [f.name for f in dataclasses.fields(cls) if f.init and f.name not in drop_fields]
    if data_fields is None and meta_fields is None:
        meta_fields = [f.name for f in dataclasses.fields(cls) if f.metadata.get("static", False)]
    meta = list(meta_fields) if meta_fields is not None else [f for f in init_fields if f not in data_fields]
    data = list(data_fields) if data_fields is not None else [f for f in init_fields if f not in meta]
    missing, unexpected = set(init_fields) - {*meta, *data}, {*meta, *data} - set(init_fields)
    if missing or unexpected:
        raise ValueError(f"register_dataclass({cls.__name__}): data_fields and meta_fields must name every field "
                         f"the constructor takes (with init=True), and only those"
                         + (f"; missing {sorted(missing)}" if missing else "")
                         + (f"; unexpected {sorted(unexpected)}" if unexpected else ""))

    def flatten(x):
        return [getattr(x, f) for f in data], tuple(getattr(x, f) for f in meta)

    def unflatten(aux, children):
        return cls(**dict(zip(meta, aux)), **dict(zip(data, children)))

    register_node(cls, flatten, unflatten, lambda x: list(data))
    return cls


def _node_of(x):
    t = type(x)
    if t is tuple or t is list:
        return t
    if t is dict:
        return dict
    if x is None:
        return None
    if t in _nodes:
        return t
    if isinstance(x, tuple) and hasattr(t, "_fields"):
        return namedtuple
    return False  # a leaf


class TreeDef:
    """The structure of a pytree with its leaves taken out."""

    __slots__ = ("kind", "aux", "subtrees", "num_leaves", "_hash", "_row")

    def __init__(self, kind, aux, subtrees):
        self.kind, self.aux, self.subtrees = kind, aux, tuple(subtrees)
        self.num_leaves = 1 if kind is False else sum(c.num_leaves for c in self.subtrees)
        # A container whose children are all leaves (a parameter dict): unflattened without recursion.
        self._row = kind in (dict, list, tuple) and builtins.all(c.kind is False for c in self.subtrees)
        self._hash = hash((id(kind), self.subtrees))  # children hash in O(1): theirs is stored too

    def __eq__(self, other):
        return self is other or (isinstance(other, TreeDef) and self._hash == other._hash and self.kind is other.kind
                                 and self.aux == other.aux and self.subtrees == other.subtrees)

    def __hash__(self):
        return self._hash

    def __repr__(self):
        return f"PyTreeDef({self._body()})"  # as jax.tree_util prints one

    def _body(self):
        if self.kind is False:
            return "*"
        if self.kind is None:
            return "None"
        inner = ", ".join(c._body() for c in self.subtrees)
        if self.kind is dict:
            return "{" + ", ".join(f"{k!r}: {c._body()}" for k, c in zip(self.aux, self.subtrees)) + "}"
        if self.kind is list:
            return f"[{inner}]"
        if self.kind is tuple:
            return f"({inner}{',' if len(self.subtrees) == 1 else ''})"
        if self.kind is namedtuple:
            return f"CustomNode(namedtuple[{self.aux.__name__}], [{inner}])"
        return f"CustomNode({self.kind.__name__}[{self.aux}], [{inner}])"

    def children(self):
        """The treedefs of this node's children (``PyTreeDef.children()``)."""
        return list(self.subtrees)

    @property
    def num_nodes(self):
        """Nodes and leaves counted together, None included (``PyTreeDef.num_nodes``)."""
        return 1 + sum(c.num_nodes for c in self.subtrees)

    def node_data(self):
        """``(node type, aux data)`` of the root, None for a leaf (``PyTreeDef.node_data()``)."""
        if self.kind is False:
            return None
        if self.kind is namedtuple:
            return self.aux, None
        if self.kind is dict:
            return dict, list(self.aux)
        return (type(None) if self.kind is None else self.kind), self.aux

    def flatten_up_to(self, tree):
        """The subtrees of ``tree`` where this structure has its leaves: ``tree`` must have this structure
        as a prefix (``PyTreeDef.flatten_up_to``, what ``tree.map`` does to its extra trees)."""
        out = []
        self._up_to(tree, out, tree)
        return out

    def _up_to(self, x, out, whole):
        k = self.kind
        if k is False:
            out.append(x)
            return
        if k is None:
            if x is not None:
                raise TreeError(f"flatten_up_to: expected None, got {type(x).__name__} in {structure(whole)}; "
                                f"it must have {self} as a prefix")
            return
        kx = _node_of(x)
        if k is namedtuple:
            same = kx is namedtuple and type(x) is self.aux
        else:
            same = kx is k
        if not same:
            raise TreeError(f"flatten_up_to: {structure(whole)} does not have {self} as a prefix: a "
                            f"{type(x).__name__} stands where the prefix has {self._body()}")
        if k is dict:
            if tuple(sorted(x)) != self.aux:
                raise TreeError(f"flatten_up_to: dict keys {sorted(x)} differ from the prefix's {list(self.aux)}")
            children = [x[key] for key in self.aux]
        elif k is tuple or k is list or k is namedtuple:
            children = list(x)
        else:
            children, aux, _ = _nodes[k][0](x)
            if aux != self.aux:
                raise TreeError(f"flatten_up_to: {k.__name__} node data {aux!r} differs from the prefix's "
                                f"{self.aux!r}")
        if len(children) != len(self.subtrees):
            raise TreeError(f"flatten_up_to: a {type(x).__name__} of {len(children)} children where the prefix "
                            f"{self} has {len(self.subtrees)}")
        for sub, child in zip(self.subtrees, children):
            sub._up_to(child, out, whole)

    def unflatten(self, leaves):
        if self._row and type(leaves) is list and len(leaves) == self.num_leaves:
            k = self.kind
            return dict(zip(self.aux, leaves)) if k is dict else tuple(leaves) if k is tuple else list(leaves)
        it = iter(leaves)
        out = self._build(it)
        rest = sum(1 for _ in it)
        if rest:
            raise TreeError(f"unflatten: {self.num_leaves} leaves expected, got {self.num_leaves + rest}")
        return out

    def _build(self, it):
        k = self.kind
        if k is False:
            try:
                return next(it)
            except StopIteration:
                raise TreeError(f"unflatten: too few leaves for structure {self}") from None
        if self._row:  # (a parameter dict inside the arguments' tuple: its leaves in one slice, not one call each)
            n = len(self.subtrees)
            children = list(itertools.islice(it, n))
            if len(children) < n:
                raise TreeError(f"unflatten: too few leaves for structure {self}")
        else:
            children = [c._build(it) for c in self.subtrees]
        if k is None:
            return None
        if k is tuple:
            return tuple(children)
        if k is list:
            return children
        if k is dict:
            return dict(zip(self.aux, children))
        if k is namedtuple:
            return self.aux(*children)
        return _nodes[k][1](self.aux, tuple(children))  # a tuple, as JAX hands a registered node's children


_LEAF = TreeDef(False, None, ())
_map = builtins.map  # this module defines its own map
_rows = {}  # (kind, aux, n) -> the TreeDef of a node whose n children are leaves; shared, as TreeDefs are immutable


def _row(kind, aux, n):
    key = (kind, aux, n)
    treedef = _rows.get(key)
    if treedef is None:
        if len(_rows) >= 4096:
            _rows.clear()
        treedef = _rows[key] = TreeDef(kind, aux, (_LEAF,) * n)
    return treedef


def _flatten(x, leaves, is_leaf):
    if is_leaf is None:
        if type(x) in _leaf_types:  # arrays, the common leaf, found in one lookup
            leaves.append(x)
            return _LEAF
    elif is_leaf(x):
        leaves.append(x)
        return _LEAF
    k = _node_of(x)
    if k is False:
        leaves.append(x)
        return _LEAF
    if k is None:
        return TreeDef(None, None, ())
    # A container of arrays (a parameter dict, an argument tuple) is the common node: its leaves are taken
    # in one pass and its TreeDef is shared.
    if k is tuple or k is list:
        if is_leaf is None and _leaf_types.issuperset(_map(type, x)):
            leaves.extend(x)
            return _row(k, None, len(x))
        return TreeDef(k, None, [_flatten(c, leaves, is_leaf) for c in x])
    if k is dict:
        keys = sorted(x)
        if is_leaf is None:
            values = [x[key] for key in keys]
            if _leaf_types.issuperset(_map(type, values)):
                leaves.extend(values)
                return _row(dict, tuple(keys), len(keys))
        return TreeDef(dict, tuple(keys), [_flatten(x[key], leaves, is_leaf) for key in keys])
    if k is namedtuple:
        return TreeDef(namedtuple, type(x), [_flatten(c, leaves, is_leaf) for c in x])
    children, aux, _ = _nodes[k][0](x)
    return TreeDef(k, aux, [_flatten(c, leaves, is_leaf) for c in children])


def flatten(tree, is_leaf=None):
    """``(leaves, treedef)`` for ``tree``; ``is_leaf(x)`` can stop the descent early."""
    leaves = []
    treedef = _flatten(tree, leaves, is_leaf)
    return leaves, treedef


def unflatten(treedef, leaves):
    return treedef.unflatten(leaves)


def leaves(tree, is_leaf=None):
    return flatten(tree, is_leaf)[0]


def structure(tree, is_leaf=None):
    return flatten(tree, is_leaf)[1]


def map(f, tree, *rest, is_leaf=None):
    """Applies ``f`` leaf-wise; each of the ``rest`` trees has ``tree``'s structure or has it as a prefix
    (its subtree at each of ``tree``'s leaves is passed whole), as ``jax.tree.map``.

    >>> import fnx
    >>> fnx.tree.map(lambda a, b: a + b, {"x": 1, "y": (2, 3)}, {"x": 10, "y": (20, 30)})
    {'x': 11, 'y': (22, 33)}
    """
    flat, treedef = flatten(tree, is_leaf)
    others = []
    for r in rest:
        rflat, rdef = flatten(r, is_leaf)
        if rdef != treedef:  # JAX's rule: each extra tree has ``tree``'s structure or has it as a prefix
            try:
                rflat = treedef.flatten_up_to(r)
            except TreeError as e:
                raise TreeError(f"tree.map: structures differ: {treedef} and {rdef} ({e})") from None
        others.append(rflat)
    return treedef.unflatten([f(*xs) for xs in zip(flat, *others)])


def _paths(x, prefix, out, is_leaf):
    if is_leaf is not None and is_leaf(x):
        out.append((prefix, x))
        return
    k = _node_of(x)
    if k is False:
        out.append((prefix, x))
    elif k is None:
        return
    elif k is dict:
        for key in sorted(x):
            _paths(x[key], prefix + (key,), out, is_leaf)
    elif k is tuple or k is list:
        for i, c in enumerate(x):
            _paths(c, prefix + (i,), out, is_leaf)
    elif k is namedtuple:
        for name, c in zip(x._fields, x):
            _paths(c, prefix + (name,), out, is_leaf)
    else:
        children, _, keys = _nodes[k][0](x)
        for key, c in zip(keys, children):
            _paths(c, prefix + (key,), out, is_leaf)


def raw_leaves_with_path(tree, is_leaf=None):
    """``[(path, leaf)]`` where a path is the tuple of the plain keys and indices leading to the leaf (for
    messages; ``leaves_with_path`` gives JAX's key objects)."""
    out = []
    _paths(tree, (), out, is_leaf)
    return out


def leaves_with_path(tree, is_leaf=None):
    """``[(key_path, leaf)]``, each path a tuple of JAX's key objects (``jax.tree.leaves_with_path``)."""
    from ..tree_util import tree_leaves_with_path
    return tree_leaves_with_path(tree, is_leaf)


def map_with_path(f, tree, *rest, is_leaf=None):
    """``f(key_path, leaf, *others)`` leaf-wise (``jax.tree.map_with_path``)."""
    from ..tree_util import tree_map_with_path
    return tree_map_with_path(f, tree, *rest, is_leaf=is_leaf)


def flatten_with_path(tree, is_leaf=None):
    """``([(key_path, leaf)], treedef)`` (``jax.tree.flatten_with_path``)."""
    from ..tree_util import tree_flatten_with_path
    return tree_flatten_with_path(tree, is_leaf)


_NO_INITIAL = object()


def reduce(function, tree, initializer=_NO_INITIAL, is_leaf=None):
    """``function`` folded over the leaves, left to right (``functools.reduce``), as ``jax.tree.reduce``.

    >>> import fnx
    >>> fnx.tree.reduce(lambda a, b: a + b, {"x": 1, "y": (2, 3)})
    6
    """
    flat = leaves(tree, is_leaf)
    if initializer is _NO_INITIAL:
        return functools.reduce(function, flat)
    return functools.reduce(function, flat, initializer)


def all(tree, is_leaf=None):
    """Whether every leaf is truthy (``jax.tree.all``); an empty tree gives True."""
    return builtins.all(leaves(tree, is_leaf))


def broadcast_prefix(prefix, tree, what="argument"):
    """Expands a prefix tree (``in_axes``-style) to one entry per leaf of ``tree``."""
    out = []

    def walk(p, t):
        kp, kt = _node_of(p), _node_of(t)
        if kp is False or p is None:  # a leaf of the prefix, or None: the same for all of t (no leaves if t is None)
            out.extend([p] * len(leaves(t)))
            return
        if kp != kt or (kp is dict and sorted(p) != sorted(t)) or (kp in (list, tuple) and len(p) != len(t)):
            raise TreeError(f"{what}: the structure {structure(p)} does not match {structure(t)}")
        if kp is dict:
            for key in sorted(t):
                walk(p[key], t[key])
        else:
            pc = _nodes[kp][0](p)[0] if kp in _nodes else list(p)
            tc = _nodes[kt][0](t)[0] if kt in _nodes else list(t)
            for a, b in zip(pc, tc):
                walk(a, b)

    walk(prefix, tree)
    return out


# ----- jax.tree's remaining names, written once in fnx.tree_util ----------------------------------------------

def transpose(outer_treedef, inner_treedef, pytree_to_transpose):
    """An outer tree of inner trees as an inner tree of outer trees (``jax.tree.transpose``)."""
    from ..tree_util import tree_transpose
    return tree_transpose(outer_treedef, inner_treedef, pytree_to_transpose)


def broadcast(prefix_tree, full_tree, is_leaf=None):
    """``prefix_tree``'s leaves repeated over ``full_tree``'s matching subtrees (``jax.tree.broadcast``)."""
    from ..tree_util import tree_broadcast
    return tree_broadcast(prefix_tree, full_tree, is_leaf=is_leaf)


def reduce_associative(operation, tree, **options):
    """The leaves combined pairwise by an associative ``operation`` (``jax.tree.reduce_associative``)."""
    from ..tree_util import tree_reduce_associative
    return tree_reduce_associative(operation, tree, **options)


def static(**field_options):
    """A dataclass field that :func:`register_dataclass` keeps static (``jax.tree.static``): the options of
    ``dataclasses.field``, with ``static=True`` added to its metadata.

    >>> import dataclasses, fnx
    >>> @fnx.tree_util.register_dataclass
    ... @dataclasses.dataclass
    ... class Op:
    ...     x: object
    ...     kind: str = fnx.tree.static(default="add")
    >>> fnx.tree.leaves(Op(1.0))
    [1.0]
    """
    metadata = dict(field_options.pop("metadata", None) or {}, static=True)
    return dataclasses.field(metadata=metadata, **field_options)
