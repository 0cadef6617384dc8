"""``jax.nn``'s functions under their JAX names, signatures and defaults, for JAX code ported by
changing ``jax`` to ``fnx``: ``fnx.nn.relu(x)``, ``fnx.nn.softmax(x, axis=-1)``,
``fnx.nn.gelu(x)`` (the tanh approximation by default, as in JAX; ``fnx.nn.functional.gelu``
is PyTorch's, exact by default), ``fnx.nn.one_hot(labels, 10)`` (floating, as in JAX).

Each is written over ``fnx.nn.functional`` or ``fnx.numpy``, so it differentiates and batches
like the rest. The PyTorch-style layers of ``fnx.nn`` (``ReLU``, ``Softmax``...) are classes and
keep their PyTorch names.
"""
import numpy as np

from .. import numpy as fnp
from ..core.dtypes import default_float
from ..scipy import special
from . import functional as F

__all__ = ["relu", "relu6", "sigmoid", "log_sigmoid", "softplus", "soft_sign", "silu", "swish", "gelu", "elu",
           "celu", "selu", "leaky_relu", "glu", "hard_tanh", "hard_sigmoid", "hard_silu", "hard_swish", "mish",
           "squareplus", "tanh", "identity", "softmax", "log_softmax", "logsumexp", "standardize", "one_hot",
           "log1mexp", "logmeanexp", "sparse_plus", "sparse_sigmoid", "dot_product_attention"]


def relu(x):
    return F.relu(x)


def relu6(x):
    return F.relu6(x)


def sigmoid(x):
    return F.sigmoid(x)


def log_sigmoid(x):
    return F.logsigmoid(x)


def softplus(x):
    """``log(1 + exp(x))``."""
    return F.softplus(x)


def soft_sign(x):
    return F.softsign(x)


def silu(x):
    """``x * sigmoid(x)``, also called swish."""
    return F.silu(x)


swish = silu


def gelu(x, approximate=True):
    """The Gaussian error linear unit; ``approximate=True`` (JAX's default) is the tanh approximation."""
    return F.gelu(x, approximate="tanh" if approximate else "none")


def elu(x, alpha=1.0):
    return F.elu(x, alpha)


def celu(x, alpha=1.0):
    return F.celu(x, alpha)


def selu(x):
    return F.selu(x)


def leaky_relu(x, negative_slope=0.01):
    """``x`` where ``x >= 0``, else ``negative_slope * x``; at 0 the derivative is 1, as JAX's (PyTorch's
    ``F.leaky_relu`` gives the slope there)."""
    x = fnp.asarray(x)
    return fnp.where(x >= 0, x, negative_slope * x)


def glu(x, axis=-1):
    """The first half of ``x`` along ``axis`` gated by the sigmoid of the second."""
    return F.glu(x, axis)


def hard_tanh(x):
    """``x`` clipped to ``[-1, 1]``, with derivative 1 at both ends, as JAX's (PyTorch's ``F.hardtanh`` gives 0)."""
    x = fnp.asarray(x)
    return fnp.where(x > 1, 1, fnp.where(x < -1, -1, x))


def hard_sigmoid(x):
    """``relu6(x + 3) / 6``."""
    return F.hardsigmoid(x)


def hard_silu(x):
    """``x * hard_sigmoid(x)``, also called hard swish."""
    return F.hardswish(x)


hard_swish = hard_silu


def mish(x):
    return F.mish(x)


def squareplus(x, b=4):
    """``(x + sqrt(x ** 2 + b)) / 2``, a smooth relu without exponentials."""
    x = fnp.asarray(x)
    return (x + fnp.sqrt(x * x + b)) / 2


def tanh(x):
    return fnp.tanh(x)


def identity(x):
    return fnp.asarray(x)


def softmax(x, axis=-1, where=None):
    """``exp(x) / sum(exp(x))`` along ``axis`` (an int or a tuple; the last by default).

    ``where`` (a boolean array broadcasting against ``x``) keeps only those
    elements, as JAX's: the others, and slices with none kept, get 0.
    """
    if where is None:
        return special.softmax(x, axis)
    x = fnp.asarray(x)
    keep = fnp.broadcast_to(fnp.asarray(where, dtype=bool), x.shape)
    top = fnp.max(fnp.where(keep, x, -fnp.inf), axis=axis, keepdims=True)
    top = fnp.stop_gradient(fnp.where(fnp.isfinite(top), top, 0))
    unnormalised = fnp.where(keep, fnp.exp(fnp.where(keep, x - top, 0)), 0)
    total = fnp.sum(unnormalised, axis=axis, keepdims=True)
    return unnormalised / fnp.where(total > 0, total, 1)


def log_softmax(x, axis=-1, where=None):
    """``x - logsumexp(x)`` along ``axis`` (an int or a tuple; the last by default); with ``where``, only
    those elements count and the others get ``-inf``, as JAX's."""
    if where is None:
        return special.log_softmax(x, axis)
    x = fnp.asarray(x)
    keep = fnp.broadcast_to(fnp.asarray(where, dtype=bool), x.shape)
    lse = special.logsumexp(x, axis=axis, keepdims=True, where=keep)
    return fnp.where(keep, x - fnp.where(fnp.isfinite(lse), lse, 0), -fnp.inf)


def standardize(x, axis=-1, mean=None, variance=None, epsilon=1e-5):
    """``(x - mean) / sqrt(variance + epsilon)``, the statistics taken along ``axis`` unless given."""
    x = fnp.asarray(x)
    if mean is None:
        mean = fnp.mean(x, axis=axis, keepdims=True)
    if variance is None:
        variance = fnp.mean(fnp.square(x - mean), axis=axis, keepdims=True)
    return (x - mean) / fnp.sqrt(variance + epsilon)


def one_hot(x, num_classes, *, dtype=None, axis=-1):
    """``x``'s integers as one-hot vectors of length ``num_classes`` along ``axis``, floating by default (JAX's
    ``one_hot``; an index outside ``[0, num_classes)`` gives a row of zeros)."""
    x = fnp.asarray(x)
    hot = fnp.expand_dims(x, -1) == fnp.arange(num_classes, device=x.device)
    hot = hot.astype(dtype or default_float())
    return hot if axis in (-1, hot.ndim - 1) else fnp.moveaxis(hot, -1, axis)


logsumexp = special.logsumexp  # jax.nn.logsumexp is jax.scipy.special.logsumexp


def log1mexp(x):
    """``log(1 - exp(-x))`` for ``x > 0``, accurate at both ends (Maechler's switch at ``log 2``: ``log(-expm1(-x))``
    below it, ``log1p(-exp(-x))`` above), as ``jax.nn.log1mexp``; NaN for ``x < 0``."""
    x = fnp.asarray(x)
    return fnp.where(x < 0.6931471805599453, fnp.log(-fnp.expm1(-x)), fnp.log1p(-fnp.exp(-x)))


def logmeanexp(x, axis=None, where=None, keepdims=False):
    """``log(mean(exp(x)))`` along ``axis`` without overflow: ``logsumexp(x) - log(n)``, as ``jax.nn.logmeanexp``.

    ``where`` (a boolean array broadcasting with ``x``) keeps only the entries where it is True, and ``n`` counts them.
    """
    from ..errors import DTypeError
    x = fnp.asarray(x)
    if where is None:
        n = x.size if axis is None else int(np.prod([x.shape[a] for a in np.atleast_1d(axis)]))
        return special.logsumexp(x, axis=axis, keepdims=keepdims) - np.log(n)
    where = fnp.asarray(where, device=x.device)
    if where.dtype != np.bool_:
        raise DTypeError(f"logmeanexp: where must be a boolean array, got {where.dtype}")
    where = fnp.broadcast_to(where, fnp.broadcast_shapes(x.shape, where.shape))
    x = fnp.broadcast_to(x, where.shape)
    lse = special.logsumexp(fnp.where(where, x, -np.inf), axis=axis, keepdims=keepdims)
    return lse - fnp.log(fnp.sum(where, axis=axis, keepdims=keepdims).astype(lse.dtype))


def sparse_plus(x):
    """0 for ``x <= -1``, ``(x + 1)**2 / 4`` between, ``x`` for ``x >= 1``: softplus's twin with exact zeros (Blondel,
    Martins and Niculae, "Learning with Fenchel-Young losses", 2020), as ``jax.nn.sparse_plus``."""
    x = fnp.asarray(x)
    return fnp.where(x <= -1.0, 0.0, fnp.where(x >= 1.0, x, (x + 1.0) ** 2 / 4))


def sparse_sigmoid(x):
    """``clip((x + 1) / 2, 0, 1)``, the derivative of :func:`sparse_plus`, as ``jax.nn.sparse_sigmoid``."""
    return 0.5 * fnp.clip(fnp.asarray(x) + 1.0, 0.0, 2.0)


def dot_product_attention(query, key, value, bias=None, mask=None, *, scale=None, is_causal=False,
                          query_seq_lengths=None, key_value_seq_lengths=None, local_window_size=None,
                          implementation=None, return_residual=False):
    r"""Scaled dot-product attention with ``jax.nn.dot_product_attention``'s layout and masks.

    .. math:: \mathrm{softmax}\left(s\, Q K^T + B\right) V, \qquad s = 1 / \sqrt{H} \text{ by default}

    Shapes use B batch, T query length, S key length, N query heads, K key/value
    heads and H head size. ``query`` is ``(B, T, N, H)``, ``key`` and ``value``
    ``(B, S, K, H)`` (or all three without B). ``N`` must be a multiple of ``K``:
    each group of ``N / K`` query heads shares one key/value head (grouped-query
    attention; ``K == 1`` is multi-query). ``bias`` (added to the logits) and the
    boolean ``mask`` (True attends) are 4-d and broadcast to ``(B, N, T, S)``.
    ``is_causal`` lets query ``t`` see keys ``s <= t``; ``local_window_size``
    ``(left, right)`` (or one int for both) lets it see ``t - left <= s <= t +
    right``; ``query_seq_lengths`` / ``key_value_seq_lengths`` (int32, shape
    ``(B,)``) mask padding, and the outputs of padded queries are zero. Masked
    logits become a large negative number, so a fully masked row averages the
    values uniformly, as in JAX. The logits and softmax are computed in at least
    float32 (float64 stays float64; JAX takes the softmax in float32 always).

    Returns the output, shaped like ``query``; with ``return_residual`` also the
    logsumexp of the masked logits, shaped ``(B, T, N)`` (not differentiated).

    >>> import fnx, fnx.numpy as fnp
    >>> q = fnp.ones((2, 5, 4, 8)); kv = fnp.ones((2, 7, 2, 8))
    >>> fnx.nn.dot_product_attention(q, kv, kv, is_causal=True).shape
    (2, 5, 4, 8)
    """
    from ..errors import DTypeError, ShapeError
    if implementation not in (None, "xla"):
        raise ValueError(f"dot_product_attention: implementation must be None or 'xla' (fnx has no cuDNN path), "
                         f"got {implementation!r}")
    query, key, value = fnp.asarray(query), fnp.asarray(key), fnp.asarray(value)
    out_shape = query.shape
    if not (query.ndim == key.ndim == value.ndim and query.ndim in (3, 4)):
        raise ShapeError(f"dot_product_attention: query, key and value must all be (B, T|S, heads, H) or all "
                         f"(T|S, heads, H), got shapes {query.shape}, {key.shape} and {value.shape}")

    def four_d(t, name, dtype=None):
        if t is None:
            return None
        t = fnp.asarray(t, device=query.device)
        if t.ndim > 4:
            raise ShapeError(f"dot_product_attention: {name} must have at most 4 dimensions, got shape {t.shape}")
        if dtype is not None and t.dtype != dtype:
            raise DTypeError(f"dot_product_attention: {name} must have dtype {dtype}, got {t.dtype}")
        return fnp.reshape(t, (1,) * (4 - t.ndim) + t.shape)

    query, key, value = four_d(query, "query"), four_d(key, "key"), four_d(value, "value")
    B, S, K, H = key.shape
    T, N = query.shape[1], query.shape[2]
    if value.shape != key.shape:
        raise ShapeError(f"dot_product_attention: value must have key's shape {key.shape}, got {value.shape}")
    if query.shape[0] != B or query.shape[3] != H:
        raise ShapeError(f"dot_product_attention: query {query.shape} and key {key.shape} must agree on the batch "
                         f"size and the head size (B, ., ., H)")
    if not (query.dtype == key.dtype == value.dtype):
        raise DTypeError(f"dot_product_attention: query, key and value must share a dtype, got {query.dtype}, "
                         f"{key.dtype} and {value.dtype}")
    if N % K:
        raise ShapeError(f"dot_product_attention: the number of query heads ({N}) must be a multiple of the number "
                         f"of key/value heads ({K})")
    bias, mask = four_d(bias, "bias"), four_d(mask, "mask", np.dtype(bool))
    for name, t in (("bias", bias), ("mask", mask)):
        if t is not None and any(d not in (1, full) for d, full in zip(t.shape, (B, N, T, S))):
            raise ShapeError(f"dot_product_attention: {name} of shape {t.shape} does not broadcast to "
                             f"(B, N, T, S) = {(B, N, T, S)}")
    lengths = []
    for name, t in (("query_seq_lengths", query_seq_lengths), ("key_value_seq_lengths", key_value_seq_lengths)):
        if t is not None:
            t = fnp.asarray(t, device=query.device)
            if t.shape != (B,) or t.dtype.kind not in "iu":
                raise ShapeError(f"dot_product_attention: {name} must be an integer array of shape ({B},), got "
                                 f"{t.dtype} array of shape {t.shape}")
        lengths.append(t)
    if isinstance(local_window_size, int):
        local_window_size = (local_window_size, local_window_size)

    if K != N:  # grouped heads: query head n reads key/value head n // (N / K)
        key, value = fnp.repeat(key, N // K, axis=2), fnp.repeat(value, N // K, axis=2)
    work = fnp.promote_types(query.dtype, np.float32)
    scale = 1.0 / np.sqrt(H) if scale is None else scale
    logits = fnp.einsum("BTNH,BSNH->BNTS", query.astype(work), key.astype(work)) * fnp.asarray(scale, work)
    if bias is not None:
        logits = (logits + bias).astype(work)

    keep = None

    def both(a, b):
        return b if a is None else fnp.logical_and(a, b)
    if mask is not None:
        keep = mask
    t_pos = fnp.arange(T, device=query.device)[:, None]
    s_pos = fnp.arange(S, device=query.device)[None, :]
    if is_causal:
        keep = both(keep, s_pos <= t_pos)
    if local_window_size is not None:
        left, right = local_window_size
        keep = both(keep, fnp.logical_and(t_pos <= s_pos + left, t_pos >= s_pos - right))
    q_len, kv_len = lengths
    if q_len is not None:
        keep = both(keep, fnp.reshape(fnp.arange(T, device=query.device), (1, 1, T, 1)) < q_len[:, None, None, None])
    if kv_len is not None:
        keep = both(keep, fnp.reshape(fnp.arange(S, device=query.device), (1, 1, 1, S)) < kv_len[:, None, None, None])
    if keep is not None:
        large_negative = float(-0.7 * np.finfo(np.float32).max)  # JAX's, a float32 product, in every dtype
        logits = fnp.where(keep, logits, fnp.asarray(large_negative, work))
    probs = special.softmax(logits, axis=-1).astype(key.dtype)
    out = fnp.einsum("BNTS,BSNH->BTNH", probs, value)
    if q_len is not None:
        out = out * (fnp.reshape(fnp.arange(T, device=query.device), (1, T, 1, 1))
                     < q_len[:, None, None, None]).astype(out.dtype)
    out = fnp.reshape(out, out_shape)
    if not return_residual:
        return out
    lse = fnp.transpose(special.logsumexp(logits, axis=-1), (0, 2, 1)).astype(key.dtype)
    return out, fnp.stop_gradient(fnp.reshape(lse, out_shape[:-1]))
