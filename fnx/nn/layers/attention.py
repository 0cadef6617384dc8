"""``MultiheadAttention`` and the Transformer encoder built from it.

Attention is computed as PyTorch's reference path does: project ``query``,
``key`` and ``value`` with the three row blocks of ``in_proj_weight`` (or the
separate ``q/k/v_proj_weight`` when ``kdim``/``vdim`` differ), split the
embedding into ``num_heads`` heads, take ``softmax(q k^T / sqrt(head_dim) +
mask)``, apply dropout to those weights while training, multiply by ``v``,
merge the heads and apply ``out_proj``.

Masks follow PyTorch's convention for this module, the opposite of
``F.scaled_dot_product_attention``'s: a boolean ``True`` marks a position that
may *not* be attended to. Boolean masks become ``-inf`` and float masks are
added to the scores; ``key_padding_mask`` ``(N, S)`` and ``attn_mask``
(``(L, S)``, or ``(N * num_heads, L, S)`` with batch-major rows) are summed.
A query that may attend to nothing gets NaN weights, as in PyTorch.
"""
import copy
import math
import warnings

from ... import numpy as fnp
from ... import random
from ...core.trace import Tracer
from ...errors import DTypeError, ShapeError
from ...transforms.autodiff import TAPE, is_grad_enabled
from .. import functional as F
from .. import init
from ..module import Module
from .activation import GELU, ReLU
from .containers import ModuleList
from .dropout import Dropout
from .linear import Linear, NonDynamicallyQuantizableLinear, _empty
from .norm import LayerNorm

__all__ = ["MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder"]


def _additive(mask, dtype, name):
    """A mask as scores to add: booleans (True = masked) become -inf, floats are used as they are. An integer
    mask is refused, as PyTorch refuses it: added as scores, its 1s would mask nothing."""
    mask = fnp.asarray(mask)
    if mask.dtype == bool:
        return fnp.where(mask, -math.inf, 0.0).astype(dtype)
    if mask.dtype.kind != "f":
        raise DTypeError(f"MultiheadAttention: only bool and floating types of {name} are supported, got "
                         f"{mask.dtype} (convert a 0/1 mask with .astype(bool), True where attention is not allowed)")
    return fnp.astype(mask, dtype)


def _pad_last(mask):
    return None if mask is None else fnp.pad(mask, [(0, 0)] * (mask.ndim - 1) + [(0, 1)])


class MultiheadAttention(Module):
    """Multi-head attention (``torch.nn.MultiheadAttention``).

    Args:
      embed_dim: model size ``E``; ``num_heads`` must divide it.
      num_heads: parallel heads, each of size ``E // num_heads``.
      dropout: dropout on the attention weights, while training.
      bias: biases in the input and output projections.
      add_bias_kv: learned ``bias_k``, ``bias_v`` appended to the key and value sequences.
      add_zero_attn: a zero key and value appended (after the projections).
      kdim, vdim: feature sizes of ``key`` and ``value`` (default ``E``).
      batch_first: inputs and output are ``(N, L, E)`` rather than ``(L, N, E)``.

    ``forward(query, key, value, key_padding_mask=None, need_weights=True,
    attn_mask=None, average_attn_weights=True, is_causal=False, *,
    key_rng=None)`` returns ``(attn_output, attn_weights)``: the output has the
    query's shape, the weights are ``(N, L, S)`` averaged over heads, or
    ``(N, num_heads, L, S)``, or None without ``need_weights``. Unbatched
    ``(L, E)`` inputs give unbatched results. ``is_causal`` is only a hint, as
    in PyTorch: the causal ``attn_mask`` must be given. ``key_rng`` seeds the
    dropout (``key`` being taken).

    >>> import fnx, fnx.numpy as fnp
    >>> mha = fnx.nn.MultiheadAttention(8, 2, batch_first=True)
    >>> x = fnp.ones((3, 5, 8))
    >>> out, w = mha(x, x, x)
    >>> out.shape, w.shape
    ((3, 5, 8), (3, 5, 5))
    >>> [name for name, _ in mha.named_parameters()]
    ['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads "
                             f"({num_heads})")
        self.embed_dim = embed_dim
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads, self.dropout, self.batch_first = num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        if self._qkv_same_embed_dim:
            self.in_proj_weight = _empty((3 * embed_dim, embed_dim), device, dtype)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = _empty((embed_dim, embed_dim), device, dtype)
            self.k_proj_weight = _empty((embed_dim, self.kdim), device, dtype)
            self.v_proj_weight = _empty((embed_dim, self.vdim), device, dtype)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = _empty((3 * embed_dim,), device, dtype)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        if add_bias_kv:
            self.bias_k = _empty((1, 1, embed_dim), device, dtype)
            self.bias_v = _empty((1, 1, embed_dim), device, dtype)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _projections(self):
        e = self.embed_dim
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            ws = (w[:e], w[e:2 * e], w[2 * e:])
        else:
            ws = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        b = self.in_proj_bias
        bs = (None, None, None) if b is None else (b[:e], b[e:2 * e], b[2 * e:])
        return ws, bs

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False, *, key_rng=None):
        q_in, k_in, v_in = fnp.asarray(query), fnp.asarray(key), fnp.asarray(value)
        if q_in.ndim not in (2, 3) or k_in.ndim != q_in.ndim or v_in.ndim != q_in.ndim:
            raise ShapeError(f"MultiheadAttention: query, key and value must all be 3-D (batched) or 2-D "
                             f"(unbatched), got shapes {q_in.shape}, {k_in.shape}, {v_in.shape}")
        batched = q_in.ndim == 3
        if batched and not self.batch_first:  # work in (N, L, E)
            q_in, k_in, v_in = (fnp.swapaxes(t, 0, 1) for t in (q_in, k_in, v_in))
        elif not batched:
            q_in, k_in, v_in = (fnp.expand_dims(t, 0) for t in (q_in, k_in, v_in))
            if key_padding_mask is not None:
                key_padding_mask = fnp.expand_dims(fnp.asarray(key_padding_mask), 0)
        n, tgt, e = q_in.shape
        src = k_in.shape[1]
        if e != self.embed_dim or k_in.shape[-1] != self.kdim or v_in.shape[-1] != self.vdim:
            raise ShapeError(f"MultiheadAttention: expected query, key and value feature sizes "
                             f"({self.embed_dim}, {self.kdim}, {self.vdim}), got ({e}, {k_in.shape[-1]}, "
                             f"{v_in.shape[-1]})")
        if k_in.shape[:2] != v_in.shape[:2] or k_in.shape[0] != n:
            raise ShapeError(f"MultiheadAttention: key {k_in.shape} and value {v_in.shape} must share their batch "
                             f"and sequence dimensions, and the batch size {n} of the query")
        if is_causal and attn_mask is None:
            raise ValueError("MultiheadAttention: need attn_mask if specifying the is_causal hint (build the "
                             "causal mask, e.g. with fnx.numpy.triu(fnx.numpy.ones((L, L), bool), 1))")
        h, hd = self.num_heads, self.head_dim
        (wq, wk, wv), (bq, bk, bv) = self._projections()
        q, k, v = F.linear(q_in, wq, bq), F.linear(k_in, wk, bk), F.linear(v_in, wv, bv)
        dtype = q.dtype
        mask = None
        if attn_mask is not None:
            mask = _additive(attn_mask, dtype, "attn_mask")
            if mask.ndim == 2 and mask.shape != (tgt, src):
                raise ShapeError(f"MultiheadAttention: the shape of the 2D attn_mask is {mask.shape}, but should "
                                 f"be {(tgt, src)}")
            if mask.ndim == 3:
                if mask.shape != (n * h, tgt, src):
                    raise ShapeError(f"MultiheadAttention: the shape of the 3D attn_mask is {mask.shape}, but "
                                     f"should be {(n * h, tgt, src)}")
                mask = fnp.reshape(mask, (n, h, tgt, src))
            elif mask.ndim != 2:
                raise ShapeError(f"MultiheadAttention: attn_mask must be 2-D or 3-D, got shape {mask.shape}")
        pad_mask = None
        if key_padding_mask is not None:
            pad_mask = _additive(key_padding_mask, dtype, "key_padding_mask")
            if pad_mask.shape != (n, src):
                raise ShapeError(f"MultiheadAttention: expecting key_padding_mask shape of {(n, src)}, but got "
                                 f"{pad_mask.shape}")
        if self.bias_k is not None:
            k = fnp.concatenate([k, fnp.broadcast_to(self.bias_k, (n, 1, e))], axis=1)
            v = fnp.concatenate([v, fnp.broadcast_to(self.bias_v, (n, 1, e))], axis=1)
            mask, pad_mask = _pad_last(mask), _pad_last(pad_mask)
        heads = lambda t: fnp.transpose(fnp.reshape(t, (n, t.shape[1], h, hd)), (0, 2, 1, 3))  # noqa: E731
        q, k, v = heads(q), heads(k), heads(v)  # (N, H, L or S, hd)
        if self.add_zero_attn:
            zeros = fnp.zeros((n, h, 1, hd), dtype=dtype, device=q.device)
            k, v = fnp.concatenate([k, zeros], axis=2), fnp.concatenate([v, zeros], axis=2)
            mask, pad_mask = _pad_last(mask), _pad_last(pad_mask)
        scores = fnp.matmul(q * (1.0 / math.sqrt(hd)), fnp.swapaxes(k, -1, -2))  # (N, H, L, S')
        if mask is not None:
            scores = scores + mask
        if pad_mask is not None:
            scores = scores + fnp.reshape(pad_mask, (n, 1, 1, pad_mask.shape[-1]))
        weights = F.softmax(scores, dim=-1)
        if self.training and self.dropout > 0.0:
            weights = F.dropout(weights, self.dropout, True, key=key_rng)
        out = fnp.reshape(fnp.transpose(fnp.matmul(weights, v), (0, 2, 1, 3)), (n, tgt, e))
        out = self.out_proj(out)
        if not batched:
            out = fnp.squeeze(out, 0)
        elif not self.batch_first:
            out = fnp.swapaxes(out, 0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = fnp.mean(weights, axis=1)
        return out, (weights if batched else fnp.squeeze(weights, 0))


def _activation_fn(activation):
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise ValueError(f"TransformerEncoderLayer: activation should be relu/gelu, not {activation!r}")


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward block, each with a residual connection and a LayerNorm
    (``torch.nn.TransformerEncoderLayer``).

    With ``norm_first=False`` (post-norm, the default)::

        x = norm1(x + dropout1(self_attn(x, x, x)))
        x = norm2(x + dropout2(linear2(dropout(activation(linear1(x))))))

    and with ``norm_first=True`` the norms move inside the residual branches
    (``x = x + dropout1(self_attn(norm1(x)))``, ...). ``activation`` is
    ``'relu'``, ``'gelu'`` or a callable. ``forward(src, src_mask=None,
    src_key_padding_mask=None, is_causal=False, *, key=None)``; ``key`` seeds
    the four dropouts.

    >>> import fnx
    >>> layer = fnx.nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, batch_first=True)
    >>> layer(fnx.numpy.ones((3, 5, 8))).shape
    (3, 5, 8)
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation_fn(activation) if isinstance(activation, str) else activation

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False, *, key=None):
        keys = [None] * 4 if key is None else list(random.split(key, 4))

        def sa_block(x):
            x = self.self_attn(x, x, x, attn_mask=src_mask, key_padding_mask=src_key_padding_mask,
                               need_weights=False, is_causal=is_causal, key_rng=keys[0])[0]
            return self.dropout1(x, key=keys[1])

        def ff_block(x):
            x = self.linear2(self.dropout(self.activation(self.linear1(x)), key=keys[2]))
            return self.dropout2(x, key=keys[3])

        x = src
        if self.norm_first:
            x = x + sa_block(self.norm1(x))
            x = x + ff_block(self.norm2(x))
        else:
            x = self.norm1(x + sa_block(x))
            x = self.norm2(x + ff_block(x))
        return x


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` applied in turn, then an optional ``norm``
    (``torch.nn.TransformerEncoder``). Each copy has its own parameters (a deep copy, as in PyTorch).
    ``forward(src, mask=None, src_key_padding_mask=None, is_causal=None, *, key=None)``.

    >>> import fnx
    >>> layer = fnx.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
    >>> enc = fnx.nn.TransformerEncoder(layer, num_layers=3)
    >>> enc(fnx.numpy.ones((5, 2, 8))).shape, len(enc.layers)
    ((5, 2, 8), 3)
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check
        why = _why_no_nested_tensor(encoder_layer)
        if enable_nested_tensor and why:
            warnings.warn(f"enable_nested_tensor is True, but self.use_nested_tensor is False because {why}",
                          UserWarning, stacklevel=2)
        self.use_nested_tensor = enable_nested_tensor and not why

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None, *, key=None):
        keys = [None] * self.num_layers if key is None else list(random.split(key, self.num_layers))
        out = src
        for layer, k in zip(self.layers, keys):
            out = layer(out, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal),
                        key=k)
        padded = self._nested_padding(src, mask, src_key_padding_mask)
        if padded is not None:  # PyTorch's inference path packs the sequences and pads them back with zeros
            out = fnp.where(padded[..., None], fnp.zeros((), out.dtype), out)
        return out if self.norm is None else self.norm(out)

    def _nested_padding(self, src, mask, src_key_padding_mask):
        """The padded positions, where PyTorch's inference path (nested tensors) gives zeros before the final
        norm: in eval mode, for a batched input with a left-aligned padding mask and no attention mask, with
        nothing to differentiate; None where that path would not run."""
        first = self.layers[0]
        if not self.use_nested_tensor or first.training or src_key_padding_mask is None or mask is not None:
            return None
        src = fnp.asarray(src)
        if src.ndim != 3 or (isinstance(src, Tracer) and src._main is not TAPE):  # a transform differentiates
            return None  # or batches it (the tape's values, leaves and parameters alike, are PyTorch's tensors)
        if is_grad_enabled() and (src.requires_grad or any(p.requires_grad for p in first.parameters())):
            return None
        pad = fnp.asarray(src_key_padding_mask)
        pad = pad if pad.dtype == bool else pad != 0
        kept = fnp.logical_not(pad)
        if self.mask_check and not bool(fnp.all(fnp.cumprod(kept, axis=-1) == kept)):
            return None  # not left-aligned: PyTorch takes the ordinary path
        return pad


def _why_no_nested_tensor(layer):
    """PyTorch's reasons for an encoder not to take its nested-tensor inference path ('' when it can)."""
    if not isinstance(layer, TransformerEncoderLayer):
        return "encoder_layer was not TransformerEncoderLayer"
    if layer.norm_first:
        return "encoder_layer.norm_first was True"
    if not layer.self_attn.batch_first:
        return "encoder_layer.self_attn.batch_first was not True(use batch_first for better inference performance)"
    if not layer.self_attn._qkv_same_embed_dim:
        return "encoder_layer.self_attn._qkv_same_embed_dim was not True"
    if layer.self_attn.in_proj_bias is None:
        return "encoder_layer.self_attn was passed bias=False"
    if layer.activation not in (F.relu, F.gelu) and not isinstance(layer.activation, (ReLU, GELU)):
        return "encoder_layer.activation_relu_or_gelu was not True"
    if layer.norm1.eps != layer.norm2.eps:
        return "encoder_layer.norm1.eps was not equal to encoder_layer.norm2.eps"
    if layer.self_attn.num_heads % 2 == 1:
        return "encoder_layer.self_attn.num_heads is odd"
    return ""


# ----- the decoder and the full Transformer ---------------------------------------------------------------

__all__ += ["TransformerDecoderLayer", "TransformerDecoder", "Transformer"]


def _square_subsequent_mask(sz, device=None, dtype=None):
    return fnp.triu(fnp.full((sz, sz), -math.inf, dtype=dtype, device=device), 1)


def _detect_is_causal_mask(mask, is_causal=None, size=None):
    """PyTorch's rule: ``is_causal`` if given; else whether ``mask`` is exactly the square causal mask."""
    if is_causal is not None or mask is None:
        return is_causal is True
    mask = fnp.asarray(mask)
    sz = size if size is not None else mask.shape[-2]
    causal = _square_subsequent_mask(sz, mask.device, mask.dtype if mask.dtype != bool else None)
    if mask.shape != causal.shape:
        return False
    if mask.dtype == bool:
        return bool(fnp.all(mask == fnp.isinf(causal)))
    return bool(fnp.all(mask == causal))


class TransformerDecoderLayer(Module):
    """Self-attention, attention over the encoder's ``memory`` and a feed-forward block, each with a residual
    connection and a LayerNorm (``torch.nn.TransformerDecoderLayer``).

    With ``norm_first=False`` (post-norm, the default)::

        x = norm1(x + dropout1(self_attn(x, x, x)))
        x = norm2(x + dropout2(multihead_attn(x, memory, memory)))
        x = norm3(x + dropout3(linear2(dropout(activation(linear1(x))))))

    and with ``norm_first=True`` the norms move inside the residual branches.
    ``forward(tgt, memory, tgt_mask=None, memory_mask=None,
    tgt_key_padding_mask=None, memory_key_padding_mask=None,
    tgt_is_causal=False, memory_is_causal=False, *, key=None)``; ``key`` seeds
    the five dropouts. Parameter names are PyTorch's, so its ``state_dict`` loads.

    >>> import fnx
    >>> layer = fnx.nn.TransformerDecoderLayer(d_model=8, nhead=2, dim_feedforward=16, batch_first=True)
    >>> layer(fnx.numpy.ones((3, 4, 8)), fnx.numpy.ones((3, 6, 8))).shape
    (3, 4, 8)
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first, bias=bias,
                                            **kw)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first,
                                                 bias=bias, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation_fn(activation) if isinstance(activation, str) else activation

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False, *, key=None):
        keys = [None] * 6 if key is None else list(random.split(key, 6))

        def sa_block(x):
            x = self.self_attn(x, x, x, attn_mask=tgt_mask, key_padding_mask=tgt_key_padding_mask,
                               is_causal=tgt_is_causal, need_weights=False, key_rng=keys[0])[0]
            return self.dropout1(x, key=keys[1])

        def mha_block(x):
            x = self.multihead_attn(x, memory, memory, attn_mask=memory_mask,
                                    key_padding_mask=memory_key_padding_mask, is_causal=memory_is_causal,
                                    need_weights=False, key_rng=keys[2])[0]
            return self.dropout2(x, key=keys[3])

        def ff_block(x):
            x = self.linear2(self.dropout(self.activation(self.linear1(x)), key=keys[4]))
            return self.dropout3(x, key=keys[5])

        x = tgt
        if self.norm_first:
            x = x + sa_block(self.norm1(x))
            x = x + mha_block(self.norm2(x))
            x = x + ff_block(self.norm3(x))
        else:
            x = self.norm1(x + sa_block(x))
            x = self.norm2(x + mha_block(x))
            x = self.norm3(x + ff_block(x))
        return x


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer`` applied in turn, then an optional ``norm``
    (``torch.nn.TransformerDecoder``). Each copy has its own parameters (a deep copy, as in PyTorch).
    ``tgt_is_causal=None`` is found out as PyTorch does: True when ``tgt_mask`` is the causal mask.

    >>> import fnx
    >>> layer = fnx.nn.TransformerDecoderLayer(8, 2, dim_feedforward=16)
    >>> dec = fnx.nn.TransformerDecoder(layer, num_layers=2)
    >>> dec(fnx.numpy.ones((5, 2, 8)), fnx.numpy.ones((7, 2, 8))).shape, len(dec.layers)
    ((5, 2, 8), 2)
    """

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(decoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False, *, key=None):
        keys = [None] * self.num_layers if key is None else list(random.split(key, self.num_layers))
        tgt = fnp.asarray(tgt)
        seq_len = None
        if self.num_layers:
            seq_len = tgt.shape[0] if tgt.ndim == 2 else tgt.shape[1 if self.layers[0].self_attn.batch_first else 0]
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, seq_len)
        out = tgt
        for layer, k in zip(self.layers, keys):
            out = layer(out, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                        tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                        tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal, key=k)
        return out if self.norm is None else self.norm(out)


class Transformer(Module):
    """The encoder-decoder Transformer of Vaswani et al., "Attention Is All You Need" (NeurIPS 2017), as
    ``torch.nn.Transformer``: a :class:`TransformerEncoder` of ``num_encoder_layers`` layers and a
    :class:`TransformerDecoder` of ``num_decoder_layers``, each ending in a LayerNorm (or the
    ``custom_encoder``/``custom_decoder`` given). Every parameter with more than one dimension is
    re-initialised with ``xavier_uniform_``, as in PyTorch.

    ``forward(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
    src_key_padding_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
    memory_is_causal=False, *, key=None)`` returns the decoder's output, shaped like ``tgt``.

    Raises:
      ShapeError: ``src`` and ``tgt`` with different batch sizes, or a feature size other than ``d_model``.

    >>> import fnx
    >>> model = fnx.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
    ...                            dim_feedforward=16)
    >>> model(fnx.numpy.ones((6, 2, 8)), fnx.numpy.ones((5, 2, 8))).shape
    (5, 2, 8)
    >>> fnx.nn.Transformer.generate_square_subsequent_mask(3)
    Array([[  0., -inf, -inf],
           [  0.,   0., -inf],
           [  0.,   0.,   0.]], dtype=float32)
    """

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048,
                 dropout=0.1, activation=F.relu, custom_encoder=None, custom_decoder=None, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                                            batch_first, norm_first, bias, **kw)
            self.encoder = TransformerEncoder(layer, num_encoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                                            batch_first, norm_first, bias, **kw)
            self.decoder = TransformerDecoder(layer, num_decoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        self._reset_parameters()
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def _reset_parameters(self):
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """The ``(sz, sz)`` float mask with ``-inf`` above the diagonal and 0 elsewhere (causal attention)."""
        return _square_subsequent_mask(sz, device, dtype)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False, *, key=None):
        src, tgt = fnp.asarray(src), fnp.asarray(tgt)
        if src.ndim == 3:
            axis = 0 if self.batch_first else 1
            if src.shape[axis] != tgt.shape[axis]:
                raise ShapeError(f"Transformer: the batch number of src and tgt must be equal, got src of shape "
                                 f"{src.shape} and tgt of shape {tgt.shape} (batch_first={self.batch_first})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ShapeError(f"Transformer: the feature number of src and tgt must be equal to d_model "
                             f"({self.d_model}), got shapes {src.shape} and {tgt.shape}")
        # a custom encoder or decoder need not take key=; it is passed only when given
        k_enc, k_dec = ({}, {}) if key is None else ({"key": k} for k in random.split(key, 2))
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal, **k_enc)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                            memory_is_causal=memory_is_causal, **k_dec)
