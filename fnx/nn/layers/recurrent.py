"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their single-step cells.

A sequence is run the plain way, with a Python loop over time steps: the
input projection of every step is computed at once (one matmul), then each
step adds the recurrent projection of the previous hidden state and applies
the cell's equations. Autodiff records the loop as it runs (the graph is as
dynamic as the code), so sequences of any length, including different lengths
in one training step, need no padding or packing. A batch of different lengths
can also be given as a ``PackedSequence`` (``fnx.nn.utils.rnn``), as in
PyTorch: at each step only the sequences still running are stepped, the output
is packed the same way, and ``h_n`` (and ``c_n``) hold each sequence's state at
its own last step, in the caller's order.

The equations, gate orders and parameter names are PyTorch's, so a PyTorch
``state_dict`` loads unchanged (``W_*`` and ``b_*`` are the chunks of
``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}`` and ``bias_hh_l{k}``
in the order shown):

* RNN: ``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`` (or relu).
* LSTM, gates ``i, f, g, o``: ``i = sigmoid(.)``, ``f = sigmoid(.)``,
  ``g = tanh(.)``, ``o = sigmoid(.)`` of ``W_i* x + b_i* + W_h* h + b_h*``;
  ``c' = f * c + i * g``, ``h' = o * tanh(c')`` (then ``W_hr h'`` with ``proj_size``).
* GRU, gates ``r, z, n``: ``r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)``,
  ``z`` likewise, ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``,
  ``h' = (1 - z) * n + z * h``.

Every weight and bias starts ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``.
Layers of a stack are run one after another, each over the whole sequence (a
bidirectional layer runs a second pass backwards in time and concatenates the
two); dropout, when asked for, is applied to the outputs of every layer but
the last while training.
"""
import math
import numbers
import warnings

from ... import numpy as fnp
from ... import random
from ...errors import ShapeError
from .. import functional as F
from .. import init
from ..module import Module
from ..utils.rnn import PackedSequence
from .linear import _empty

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ----- one time step -------------------------------------------------------------------------
#
# ``xw`` is the input projection W_ih x + b_ih of the step, computed beforehand.

def _rnn_step(xw, h, w_hh, b_hh, relu):
    pre = xw + F.linear(h, w_hh, b_hh)
    return F.relu(pre) if relu else F.tanh(pre)


def _lstm_step(xw, h, c, w_hh, b_hh, w_hr=None):
    i, f, g, o = fnp.split(xw + F.linear(h, w_hh, b_hh), 4, axis=-1)
    c = F.sigmoid(f) * c + F.sigmoid(i) * F.tanh(g)
    h = F.sigmoid(o) * F.tanh(c)
    return (h if w_hr is None else F.linear(h, w_hr)), c


def _gru_step(xw, h, w_hh, b_hh):
    xr, xz, xn = fnp.split(xw, 3, axis=-1)
    hr, hz, hn = fnp.split(F.linear(h, w_hh, b_hh), 3, axis=-1)
    r, z = F.sigmoid(xr + hr), F.sigmoid(xz + hz)
    n = F.tanh(xn + r * hn)
    return (1.0 - z) * n + z * h


def _step(mode, xw, state, w_hh, b_hh, w_hr=None):
    """One step of ``mode`` from ``state`` (``h``, or ``(h, c)`` for LSTM) to the next state."""
    if mode == "LSTM":
        return _lstm_step(xw, *state, w_hh, b_hh, w_hr)
    if mode == "GRU":
        return _gru_step(xw, state, w_hh, b_hh)
    return _rnn_step(xw, state, w_hh, b_hh, mode == "RNN_RELU")


def _float_input(opname, input):
    x = fnp.asarray(input)
    if x.dtype.kind != "f":
        raise TypeError(f"{opname}: expected a floating input, got {x.dtype}")
    return x


class RNNBase(Module):
    """The machinery shared by :class:`RNN`, :class:`LSTM` and :class:`GRU` (``torch.nn.RNNBase``)."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        if mode not in _GATES:
            raise ValueError(f"{name}: unrecognized RNN mode {mode!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing the probability of "
                             f"an element being zeroed, got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}", UserWarning, stacklevel=3)
        for what, v in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers),
                        ("proj_size", proj_size)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise TypeError(f"{name}: {what} should be of type int, got: {type(v).__name__}")
        if hidden_size <= 0:
            raise ValueError(f"{name}: hidden_size must be greater than zero, got {hidden_size}")
        if num_layers <= 0:
            raise ValueError(f"{name}: num_layers must be greater than zero, got {num_layers}")
        if proj_size < 0:
            raise ValueError(f"{name}: proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size ({proj_size}) has to be smaller than hidden_size ({hidden_size})")
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._all_weights = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden * directions
            for direction in range(directions):
                sfx = f"l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = [(f"weight_ih_{sfx}", (gate_size, layer_input)),
                          (f"weight_hh_{sfx}", (gate_size, real_hidden))]
                if bias:
                    shapes += [(f"bias_ih_{sfx}", (gate_size,)), (f"bias_hh_{sfx}", (gate_size,))]
                if proj_size > 0:
                    shapes += [(f"weight_hr_{sfx}", (proj_size, hidden_size))]
                for pname, shape in shapes:
                    setattr(self, pname, _empty(shape, device, dtype))
                self._all_weights.append([pname for pname, _ in shapes])
        self._flat_weights_names = [n for names in self._all_weights for n in names]
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self):
        """Does nothing: fnx keeps no fused weight buffer (PyTorch's is a cuDNN detail)."""

    @property
    def all_weights(self):
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def _layer_weights(self, layer, direction):
        sfx = f"l{layer}" + ("_reverse" if direction == 1 else "")
        get = lambda n: getattr(self, f"{n}_{sfx}", None)  # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"), get("weight_hr")

    def _state_shapes(self, batch):
        d = (2 if self.bidirectional else 1) * self.num_layers
        h = (d, batch, self.proj_size or self.hidden_size)
        return [h, (d, batch, self.hidden_size)] if self.mode == "LSTM" else [h]

    def _prepare(self, input, hx):
        """The input as ``(L, N, H_in)`` and the initial states as a list of ``(D * layers, N, H)`` arrays."""
        name = type(self).__name__
        x = _float_input(name, input)
        if x.ndim not in (2, 3):
            raise ValueError(f"{name}: expected input to be 2D (unbatched) or 3D, got {x.ndim}D instead "
                             f"(shape {x.shape})")
        batched = x.ndim == 3
        x = (fnp.swapaxes(x, 0, 1) if self.batch_first else x) if batched else fnp.expand_dims(x, 1)
        if x.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                             f"got {x.shape[-1]}")
        if x.shape[0] == 0:
            raise ShapeError(f"{name}: the input sequence is empty (shape {x.shape})")
        shapes = self._state_shapes(x.shape[1])
        if hx is None:
            states = [fnp.zeros(s, dtype=x.dtype, device=x.device) for s in shapes]
        else:
            states = list(hx) if self.mode == "LSTM" else [hx]
            if self.mode == "LSTM" and len(states) != 2:
                raise ValueError(f"{name}: hx must be a pair (h_0, c_0)")
            states = [fnp.asarray(s) for s in states]
            want = 3 if batched else 2
            if any(s.ndim != want for s in states):
                raise ValueError(f"{name}: for {'batched 3-D' if batched else 'unbatched 2-D'} input, hx should "
                                 f"also be {want}-D but got {tuple(s.ndim for s in states)}-D")
            if not batched:
                states = [fnp.expand_dims(s, 1) for s in states]
            for i, (s, shape) in enumerate(zip(states, shapes)):
                if s.shape != shape:
                    which = f"hidden[{i}]" if self.mode == "LSTM" else "hidden"
                    raise ShapeError(f"{name}: expected {which} size {shape}, got {s.shape}")
        return x, states, batched

    def _direction(self, x, state, weights, reverse):
        """Runs one direction of one layer over the whole sequence: ``(outputs (L, N, H), final state)``."""
        w_ih, w_hh, b_ih, b_hh, w_hr = weights
        xw = F.linear(x, w_ih, b_ih)
        steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
        outs = [None] * x.shape[0]
        for t in steps:
            state = _step(self.mode, xw[t], state, w_hh, b_hh, w_hr)
            outs[t] = state[0] if self.mode == "LSTM" else state
        return fnp.stack(outs), state

    def _run_layers(self, x, states, run, key):
        """The stack: each layer runs ``run(x, state, weights, reverse) -> (outputs, final state)`` per
        direction over the previous layer's outputs; returns the last outputs and the final states."""
        directions = 2 if self.bidirectional else 1
        drop = self.dropout > 0 and self.training and self.num_layers > 1
        keys = random.split(key, self.num_layers - 1) if drop and key is not None else None
        finals = []
        for layer in range(self.num_layers):
            outs = []
            for d in range(directions):
                i = layer * directions + d
                state = (states[0][i], states[1][i]) if self.mode == "LSTM" else states[0][i]
                out, final = run(x, state, self._layer_weights(layer, d), d == 1)
                outs.append(out)
                finals.append(final)
            x = outs[0] if directions == 1 else fnp.concatenate(outs, axis=-1)
            if drop and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True, key=None if keys is None else keys[layer])
        if self.mode == "LSTM":
            return x, (fnp.stack([h for h, _ in finals]), fnp.stack([c for _, c in finals]))
        return x, (fnp.stack(finals),)

    def forward(self, input, hx=None, *, key=None):
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx, key)
        x, states, batched = self._prepare(input, hx)
        x, hn = self._run_layers(x, states, self._direction, key)
        if not batched:
            x, hn = fnp.squeeze(x, 1), tuple(fnp.squeeze(h, 1) for h in hn)
        elif self.batch_first:
            x = fnp.swapaxes(x, 0, 1)
        return x, (hn if self.mode == "LSTM" else hn[0])

    # ----- packed sequences -----------------------------------------------------------------------
    #
    # At step t only the first batch_sizes[t] sequences run (they are sorted longest first), so the state
    # shrinks as sequences end, and each one's final state is the one it had at its own last step. Going
    # backwards in time the state grows instead: a sequence joins, from its initial state, at its last step.

    def _forward_packed(self, packed, hx, key):
        name = type(self).__name__
        data, batch_sizes, sorted_indices, unsorted_indices = packed
        x = _float_input(name, data)
        if x.ndim != 2:
            raise ShapeError(f"{name}: the data of a PackedSequence must have 2 dimensions, got {x.ndim} "
                             f"(shape {x.shape})")
        if x.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                             f"got {x.shape[-1]}")
        sizes = [int(b) for b in batch_sizes.tolist()]
        shapes = self._state_shapes(sizes[0])
        if hx is None:
            states = [fnp.zeros(s, dtype=x.dtype, device=x.device) for s in shapes]
        else:
            states = [fnp.asarray(s) for s in (hx if self.mode == "LSTM" else (hx,))]
            if len(states) != len(shapes):
                raise ValueError(f"{name}: hx must be a pair (h_0, c_0)")
            for i, (s, shape) in enumerate(zip(states, shapes)):
                if s.shape != shape:
                    which = f"hidden[{i}]" if self.mode == "LSTM" else "hidden"
                    raise ShapeError(f"{name}: expected {which} size {shape}, got {s.shape}")
            if sorted_indices is not None:  # the caller's order to the packed (sorted) order
                states = [fnp.take(s, sorted_indices, axis=1) for s in states]
        run = lambda x, state, weights, reverse: self._packed_direction(x, state, weights, reverse, sizes)  # noqa
        out, hn = self._run_layers(x, states, run, key)
        if unsorted_indices is not None:
            hn = tuple(fnp.take(h, unsorted_indices, axis=1) for h in hn)
        return (PackedSequence(out, batch_sizes, sorted_indices, unsorted_indices),
                hn if self.mode == "LSTM" else hn[0])

    def _packed_direction(self, data, state, weights, reverse, sizes):
        """One direction of one layer over packed ``data``: ``(outputs, final state)``, both packed by
        ``sizes``; ``state`` holds every sequence's initial state (``h``, or ``(h, c)``)."""
        w_ih, w_hh, b_ih, b_hh, w_hr = weights
        lstm = self.mode == "LSTM"
        initial = state if lstm else (state,)
        xw = F.linear(data, w_ih, b_ih)
        offsets = [0]
        for size in sizes:
            offsets.append(offsets[-1] + size)
        outs = [None] * len(sizes)

        def advance(t, running):
            new = _step(self.mode, xw[offsets[t]:offsets[t + 1]], running if lstm else running[0], w_hh, b_hh,
                        w_hr)
            new = new if lstm else (new,)
            outs[t] = new[0]
            return new

        if reverse:
            running = tuple(s[:sizes[-1]] for s in initial)
            for t in range(len(sizes) - 1, -1, -1):
                n = running[0].shape[0]
                if sizes[t] > n:  # these sequences end at t: they start here, from their initial states
                    running = tuple(fnp.concatenate([r, s[n:sizes[t]]]) for r, s in zip(running, initial))
                running = advance(t, running)
            final = running
        else:
            running, ended = initial, []
            for t in range(len(sizes)):
                if sizes[t] < running[0].shape[0]:  # the last rows ended at t - 1: their state is final
                    ended.append(tuple(r[sizes[t]:] for r in running))
                    running = tuple(r[:sizes[t]] for r in running)
                running = advance(t, running)
            ended.append(running)
            final = tuple(fnp.concatenate(parts) if len(parts) > 1 else parts[0]
                          for parts in zip(*reversed(ended)))
        return fnp.concatenate(outs), (final if lstm else final[0])

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """Elman RNN, ``h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`` (or relu) (``torch.nn.RNN``).

    Args:
      input_size, hidden_size: feature sizes of ``x`` and ``h``.
      num_layers: stacked layers, each reading the previous one's outputs.
      nonlinearity: ``'tanh'`` or ``'relu'``.
      bias: with ``b_ih`` and ``b_hh``.
      batch_first: input and output are ``(N, L, H)`` instead of ``(L, N, H)``.
      dropout: dropout on the outputs of each layer but the last, while training.
      bidirectional: also run each layer backwards in time and concatenate.

    ``forward(input, hx=None, *, key=None)`` takes ``(L, N, H_in)`` (or
    ``(N, L, H_in)``, or unbatched ``(L, H_in)``) and ``h_0`` of shape
    ``(D * num_layers, N, H)``, zeros by default, and returns
    ``(output, h_n)``: the last layer's ``h_t`` for every ``t``, ``(L, N, D * H)``,
    and every layer's final state. ``key`` seeds the dropout. The input may
    also be a ``PackedSequence`` (``batch_first`` does not apply to it); the
    output is then packed alike, and ``h_n`` holds each sequence's state at its
    own last step (in the caller's order, as is ``h_0``).

    >>> import fnx
    >>> rnn = fnx.nn.RNN(3, 5, num_layers=2)
    >>> out, h = rnn(fnx.numpy.ones((7, 4, 3)))
    >>> out.shape, h.shape
    ((7, 4, 5), (2, 4, 5))
    >>> [name for name, _ in rnn.named_parameters()][:4]
    ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        modes = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}
        if nonlinearity not in modes:
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}. Select from 'tanh' or 'relu'.")
        super().__init__(modes[nonlinearity], input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory (``torch.nn.LSTM``); gates ``i, f, g, o`` in that order in the weights.

    Arguments as :class:`RNN` (without ``nonlinearity``), plus ``proj_size``: when
    positive, ``h_t`` is projected to that size by ``weight_hr_l{k}``.
    ``forward(input, hx=None, *, key=None)`` takes ``hx = (h_0, c_0)`` and returns
    ``(output, (h_n, c_n))``.

    >>> import fnx
    >>> lstm = fnx.nn.LSTM(3, 5, batch_first=True, bidirectional=True)
    >>> out, (h, c) = lstm(fnx.numpy.ones((4, 7, 3)))
    >>> out.shape, h.shape, c.shape
    ((4, 7, 10), (2, 4, 5), (2, 4, 5))
    >>> lstm
    LSTM(3, 5, batch_first=True, bidirectional=True)
    >>> from fnx.nn.utils.rnn import pack_sequence
    >>> packed = pack_sequence([fnx.numpy.ones((2, 3)), fnx.numpy.ones((4, 3))], enforce_sorted=False)
    >>> out, (h, c) = lstm(packed)
    >>> out.data.shape, out.batch_sizes, h.shape
    ((6, 10), Array([2, 2, 1, 1], dtype=int64), (2, 2, 5))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit (``torch.nn.GRU``); gates ``r, z, n`` in that order in the weights, with
    PyTorch's ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``. Arguments and ``forward`` as :class:`RNN`.

    >>> import fnx
    >>> out, h = fnx.nn.GRU(3, 5)(fnx.numpy.ones((7, 3)))  # unbatched (L, H_in)
    >>> out.shape, h.shape
    ((7, 5), (1, 5))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0,
                         device, dtype)


# ----- cells: one step, the caller loops -----------------------------------------------------


class RNNCellBase(Module):
    """The parameters shared by the cells: ``weight_ih`` ``(G * H, H_in)``, ``weight_hh`` ``(G * H, H)``,
    ``bias_ih`` and ``bias_hh`` ``(G * H,)``, all ``U(-1/sqrt(H), 1/sqrt(H))``."""
    _mode = None

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = _empty((num_chunks * hidden_size, input_size), device, dtype)
        self.weight_hh = _empty((num_chunks * hidden_size, hidden_size), device, dtype)
        if bias:
            self.bias_ih = _empty((num_chunks * hidden_size,), device, dtype)
            self.bias_hh = _empty((num_chunks * hidden_size,), device, dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def forward(self, input, hx=None):
        name = type(self).__name__
        x = _float_input(name, input)
        if x.ndim not in (1, 2):
            raise ValueError(f"{name}: expected input to be 1D or 2D, got {x.ndim}D instead")
        if x.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: input has {x.shape[-1]} features, expected input_size={self.input_size}")
        batched = x.ndim == 2
        x = x if batched else fnp.expand_dims(x, 0)
        n_states = 2 if self._mode == "LSTM" else 1
        if hx is None:
            states = [fnp.zeros((x.shape[0], self.hidden_size), dtype=x.dtype, device=x.device)] * n_states
        else:
            states = [fnp.asarray(s) for s in (hx if n_states == 2 else (hx,))]
            if len(states) != n_states:
                raise ValueError(f"{name}: hx must be a pair (h, c)")
            if any(s.ndim != (2 if batched else 1) for s in states):
                raise ValueError(f"{name}: expected hidden to be {2 if batched else 1}D like the input, got "
                                 f"{tuple(s.ndim for s in states)}D")
            states = states if batched else [fnp.expand_dims(s, 0) for s in states]
            for s in states:
                if s.shape != (x.shape[0], self.hidden_size):
                    raise ShapeError(f"{name}: hidden state of shape {s.shape} does not fit, expected "
                                     f"{(x.shape[0], self.hidden_size)}")
        state = tuple(states) if n_states == 2 else states[0]
        out = _step(self._mode, F.linear(x, self.weight_ih, self.bias_ih), state, self.weight_hh, self.bias_hh)
        if not batched:
            out = tuple(fnp.squeeze(o, 0) for o in out) if n_states == 2 else fnp.squeeze(out, 0)
        return out


class RNNCell(RNNCellBase):
    """One Elman RNN step, ``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`` (or relu) (``torch.nn.RNNCell``).

    ``forward(input, hx=None)``: ``(N, H_in)`` or ``(H_in,)`` and ``h`` of the
    matching ``(N, H)`` or ``(H,)`` (zeros by default) give ``h'``.

    >>> import fnx, fnx.numpy as fnp
    >>> cell = fnx.nn.RNNCell(3, 5, nonlinearity="relu")
    >>> cell
    RNNCell(3, 5, nonlinearity=relu)
    >>> h = fnp.zeros((2, 5))
    >>> for x in fnp.ones((4, 2, 3)):  # the caller loops over time
    ...     h = cell(x, h)
    >>> h.shape
    (2, 5)
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}. Select from 'tanh' or 'relu'.")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity
        self._mode = "RNN_RELU" if nonlinearity == "relu" else "RNN_TANH"


class LSTMCell(RNNCellBase):
    """One LSTM step (``torch.nn.LSTMCell``): ``forward(input, (h, c))`` returns ``(h', c')``.

    >>> import fnx
    >>> h, c = fnx.nn.LSTMCell(3, 5)(fnx.numpy.ones((2, 3)))
    >>> h.shape, c.shape
    ((2, 5), (2, 5))
    """
    _mode = "LSTM"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)


class GRUCell(RNNCellBase):
    """One GRU step (``torch.nn.GRUCell``): ``forward(input, h)`` returns ``h'``."""
    _mode = "GRU"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)
