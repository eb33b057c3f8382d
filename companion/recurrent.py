r"""Recurrent networks from their equations: RNN, LSTM and GRU cells, stacked and bidirectional modules.

A recurrent network reads a sequence step by step, carrying a hidden state:
:math:`h_t = \tanh(x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh})`.
:func:`rnn_cell`, :func:`lstm_cell`, :func:`gru_cell` compute one step with torch ops (autograd
gives the gradients); :class:`RNN`, :class:`LSTM`, :class:`GRU` unroll them over time. Parameters
have torch's names and layout (``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``,
``bias_hh_l{k}``, ``*_reverse``; gate blocks stacked LSTM (i, f, g, o), GRU (r, z, n)), so state
dicts are interchangeable (:meth:`RNN.from_torch`). :func:`pad_sequences`, :func:`sequence_mask`,
:func:`last_hidden` handle variable-length batches. Reference: ``nn.RNNCell``/``LSTMCell``/
``GRUCell``, ``nn.RNN``/``LSTM``/``GRU``, ``nn.utils.rnn.pad_sequence``/``pack_padded_sequence``.
Backpropagation through time (NumPy by hand, and truncated BPTT for training) is a topic of its
own in :mod:`companion.bptt`; its functions are re-exported here.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .bptt import rnn_backward_numpy, rnn_forward_numpy, truncated_bptt
from .validation import check_int, check_ndim, check_shape, check_tensor, check_type

__all__ = ["rnn_cell", "lstm_cell", "gru_cell", "RNN", "LSTM", "GRU", "pad_sequences",
           "sequence_mask", "last_hidden", "rnn_forward_numpy", "rnn_backward_numpy",
           "truncated_bptt", "rnn_parameter_count"]

GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # gate blocks stacked in each weight matrix
_ACT = {"tanh": torch.tanh, "relu": torch.relu}


# ---------------------------------------------------------------- one step (cells and modules)
# gi = x W_ih^T + b_ih (+ b_hh where it can be folded in): the input part, computed outside.

def _rnn_step(gi, state, W_hh_T, b_hh, act=torch.tanh):
    # h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)        (b_hh folded into gi)
    return (act(torch.addmm(gi, state[0], W_hh_T)),)


def _lstm_step(gi, state, W_hh_T, b_hh):
    h, c = state
    # [i, f, g, o] = x W_ih^T + b_ih + h W_hh^T + b_hh   (b_hh folded into gi)
    gates = torch.addmm(gi, h, W_hh_T)  # (N, 4H)
    H = h.shape[1]
    # sigma of all four blocks in one op (its g block is unused: g takes tanh instead)
    i, f, _, o = torch.sigmoid(gates).chunk(4, dim=1)  # each (N, H)
    g = torch.tanh(gates[:, 2 * H:3 * H])
    # c' = sigma(f) * c + sigma(i) * tanh(g)
    c = f * c + i * g
    # h' = sigma(o) * tanh(c')
    return o * torch.tanh(c), c


def _gru_step(gi, state, W_hh_T, b_hh):
    h = state[0]
    H = h.shape[1]
    gh = h @ W_hh_T if b_hh is None else torch.addmm(b_hh, h, W_hh_T)  # (N, 3H) = W_h* h + b_h*
    # [r, z] = sigma(W_i[r,z] x + b_i[r,z] + W_h[r,z] h + b_h[r,z])
    r, z = torch.sigmoid(gi[:, :2 * H] + gh[:, :2 * H]).chunk(2, dim=1)
    # n = tanh(W_in x + b_in + r * (W_hn h + b_hn))     (PyTorch: r multiplies after W_hn)
    n = torch.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    # h' = (1 - z) * n + z * h = n + z * (h - n)
    return (n + z * (h - n),)


def _check_cell(func, x, h, weight_ih, weight_hh, bias_ih, bias_hh, gates):
    for name, t in (("x", x), ("h", h), ("weight_ih", weight_ih), ("weight_hh", weight_hh)):
        check_tensor(func, name, t)
    check_ndim(func, "x", x, 2, "(N, input_size)")
    check_ndim(func, "weight_hh", weight_hh, 2, f"({gates}*hidden_size, hidden_size)")
    H = weight_hh.shape[1]
    check_shape(func, "weight_hh", weight_hh, (gates * H, H))
    check_shape(func, "weight_ih", weight_ih, (gates * H, x.shape[1]))
    check_shape(func, "h", h, (x.shape[0], H))
    for name, b in (("bias_ih", bias_ih), ("bias_hh", bias_hh)):
        if b is not None:
            check_shape(func, name, check_tensor(func, name, b), (gates * H,))


def _input_part(x, weight_ih, bias_ih, bias_hh):
    """x W_ih^T + b_ih + b_hh (the biases that add outside any gate product)."""
    gi = F.linear(x, weight_ih, bias_ih)
    return gi if bias_hh is None else gi + bias_hh


def rnn_cell(x, h, weight_ih, weight_hh, bias_ih=None, bias_hh=None, nonlinearity="tanh"):
    r"""One step of the vanilla (Elman) RNN.

    .. math:: h' = \phi(x W_{ih}^\top + b_{ih} + h W_{hh}^\top + b_{hh}),\quad \phi = \tanh
        \text{ or ReLU}

    Args: x (N, I); h (N, H); weight_ih (H, I); weight_hh (H, H); bias_ih, bias_hh (H,) or None;
        nonlinearity "tanh" or "relu".
    Returns: h' (N, H). Reference: ``torch.nn.RNNCell`` (same weight layout).
    """
    _check_cell("rnn_cell", x, h, weight_ih, weight_hh, bias_ih, bias_hh, 1)
    act = _ACT[_nonlinearity("rnn_cell", nonlinearity)]
    return _rnn_step(_input_part(x, weight_ih, bias_ih, bias_hh), (h,), weight_hh.t(), None, act)[0]


def lstm_cell(x, state, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    r"""One LSTM step; the gate blocks are stacked in torch's order i, f, g, o.

    .. math::
        [i, f, g, o] = x W_{ih}^\top + b_{ih} + h W_{hh}^\top + b_{hh} \\
        c' = \sigma(f) \odot c + \sigma(i) \odot \tanh(g), \quad h' = \sigma(o) \odot \tanh(c')

    Args: x (N, I); state = (h, c), each (N, H); weight_ih (4H, I); weight_hh (4H, H);
        bias_ih, bias_hh (4H,) or None.
    Returns: (h', c'), each (N, H). Reference: ``torch.nn.LSTMCell``.
    """
    if not isinstance(state, (tuple, list)) or len(state) != 2:
        raise TypeError(f"lstm_cell: state must be a pair (h, c); got {type(state).__name__}")
    _check_cell("lstm_cell", x, state[0], weight_ih, weight_hh, bias_ih, bias_hh, 4)
    check_shape("lstm_cell", "c", check_tensor("lstm_cell", "c", state[1]), tuple(state[0].shape))
    return _lstm_step(_input_part(x, weight_ih, bias_ih, bias_hh), state, weight_hh.t(), None)


def gru_cell(x, h, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    r"""One GRU step in PyTorch's formulation; gate blocks stacked r, z, n.

    .. math::
        r = \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}), \quad
        z = \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}) \\
        n = \tanh(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})), \quad
        h' = (1 - z) \odot n + z \odot h

    Convention: torch (and cuDNN) apply the reset gate *after* the product, to
    :math:`W_{hn} h + b_{hn}`; the original GRU (Cho et al., 2014) applies it before,
    :math:`W_{hn} (r \odot h)`. The two are different functions with the same parameters.
    Args: x (N, I); h (N, H); weight_ih (3H, I); weight_hh (3H, H); biases (3H,) or None.
    Returns: h' (N, H). Reference: ``torch.nn.GRUCell``.
    """
    _check_cell("gru_cell", x, h, weight_ih, weight_hh, bias_ih, bias_hh, 3)
    return _gru_step(F.linear(x, weight_ih, bias_ih), (h,), weight_hh.t(), bias_hh)[0]


def _nonlinearity(func, value):
    if value not in _ACT:
        raise ValueError(f"{func}: nonlinearity must be 'tanh' or 'relu'; got {value!r}")
    return value


# ---------------------------------------------------------------- modules

def _check_lengths(func, lengths, N, L):
    """lengths as an int64 CPU tensor of shape (N,) with 1 <= lengths <= L."""
    lengths = torch.as_tensor(lengths)
    if lengths.is_floating_point() or lengths.dtype == torch.bool:
        raise TypeError(f"{func}: lengths must hold integers; got dtype {lengths.dtype}")
    check_shape(func, "lengths", lengths, (N,))
    if N and (lengths.min() < 1 or lengths.max() > L):
        raise ValueError(f"{func}: lengths must be between 1 and L={L}; got min "
                         f"{int(lengths.min())}, max {int(lengths.max())}")
    return lengths.long().cpu()


class RNN(nn.Module):
    r"""Multi-layer Elman RNN unrolled in Python, with torch's arguments, shapes and parameters.

    Layer :math:`k` direction :math:`d` runs :func:`rnn_cell` over the output of layer
    :math:`k-1` (both directions concatenated; the input for :math:`k=0`); the reverse
    direction reads the sequence from its last step to its first.
    Args: input_size, hidden_size, num_layers (ints >= 1); bias; batch_first;
        bidirectional (D = 2); nonlinearity "tanh" or "relu" (RNN only).
    forward(x, hx=None, lengths=None):
        x (L, N, I), or (N, L, I) with batch_first; hx (D*num_layers, N, H), zeros if None
        (LSTM: a pair (h_0, c_0)); lengths (N,) ints in [1, L] for a padded batch: past its end
        a sequence's state stays unchanged and its outputs are 0, as ``nn.RNN`` on
        ``pack_padded_sequence(x, lengths, enforce_sorted=False)`` and ``pad_packed_sequence(...,
        total_length=L)``; the reverse direction starts at each sequence's own last step.
        Returns (output (L, N, D*H) (batch_first: (N, L, D*H)), h_n (D*num_layers, N, H)),
        LSTM: (output, (h_n, c_n)).
    The input projection :math:`x_t W_{ih}^\top + b_{ih}` is one matmul for all steps; only
    the recurrent part loops over time. Not covered: torch's ``dropout`` between layers (ours
    equals a torch module in eval mode), ``proj_size``, unbatched 2-D input.
    Reference: ``torch.nn.RNN`` (and ``nn.LSTM``, ``nn.GRU``); initialisation as torch,
    :math:`U(-1/\sqrt{H}, 1/\sqrt{H})` for every parameter.
    """
    kind, _fold_bias = "rnn", True

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 bidirectional=False, nonlinearity="tanh"):
        super().__init__()
        name = type(self).__name__
        self.input_size = check_int(name, "input_size", input_size, 1)
        self.hidden_size = H = check_int(name, "hidden_size", hidden_size, 1)
        self.num_layers = check_int(name, "num_layers", num_layers, 1)
        self.bias, self.batch_first = bool(bias), bool(batch_first)
        self.bidirectional = bool(bidirectional)
        self.nonlinearity = _nonlinearity(name, nonlinearity)
        if self.kind != "rnn" and nonlinearity != "tanh":
            raise ValueError(f"{name}: nonlinearity applies to RNN only; got {nonlinearity!r}")
        D, G = 1 + self.bidirectional, GATES[self.kind] * H
        for k in range(self.num_layers):
            for sfx in ("", "_reverse")[:D]:
                I_k = self.input_size if k == 0 else D * H
                self.register_parameter(f"weight_ih_l{k}{sfx}", nn.Parameter(torch.empty(G, I_k)))
                self.register_parameter(f"weight_hh_l{k}{sfx}", nn.Parameter(torch.empty(G, H)))
                if self.bias:
                    self.register_parameter(f"bias_ih_l{k}{sfx}", nn.Parameter(torch.empty(G)))
                    self.register_parameter(f"bias_hh_l{k}{sfx}", nn.Parameter(torch.empty(G)))
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / self.hidden_size ** 0.5
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def extra_repr(self):
        return (f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
                f"bias={self.bias}, batch_first={self.batch_first}, "
                f"bidirectional={self.bidirectional}"
                + (f", nonlinearity={self.nonlinearity!r}" if self.kind == "rnn" else ""))

    @classmethod
    def from_torch(cls, module):
        """A module of this class with ``module``'s sizes, dtype, device and weights."""
        func, ref = f"{cls.__name__}.from_torch", getattr(nn, cls.__name__)
        check_type(func, "module", module, ref, f"a torch.nn.{cls.__name__}")
        if getattr(module, "proj_size", 0):
            raise ValueError(f"{func}: proj_size is not supported; got {module.proj_size}")
        kw = dict(nonlinearity=module.nonlinearity) if cls is RNN else {}
        ours = cls(module.input_size, module.hidden_size, module.num_layers, module.bias,
                   module.batch_first, module.bidirectional, **kw)
        p = next(module.parameters())
        ours.to(device=p.device, dtype=p.dtype).load_state_dict(module.state_dict())
        return ours

    def _step(self, gi, state, W_hh_T, b_hh):
        return _rnn_step(gi, state, W_hh_T, b_hh, _ACT[self.nonlinearity])

    def _initial_state(self, hx, x, N):
        name, H = type(self).__name__, self.hidden_size
        shape = ((1 + self.bidirectional) * self.num_layers, N, H)
        n_states = 2 if self.kind == "lstm" else 1
        if hx is None:
            return (x.new_zeros(shape),) * n_states
        if n_states == 2 and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"{name}: hx must be a pair (h_0, c_0); got {type(hx).__name__}")
        hx = tuple(hx) if n_states == 2 else (hx,)
        for s, label in zip(hx, ("h_0", "c_0")):
            check_tensor(name, label, s)
            check_shape(name, label, s, shape)  # (D*num_layers, N, H)
        return hx

    def _check_forward(self, x, hx, lengths):
        name = type(self).__name__
        check_tensor(name, "x", x)
        layout = "(N, L, input_size)" if self.batch_first else "(L, N, input_size)"
        check_ndim(name, "x", x, 3, layout)
        if x.shape[2] != self.input_size:
            raise ValueError(f"{name}: x must have input_size={self.input_size} features in its "
                             f"last dimension; got shape {tuple(x.shape)}")
        if x.dtype != self.weight_ih_l0.dtype:
            raise TypeError(f"{name}: x must have the parameters' dtype {self.weight_ih_l0.dtype}; "
                            f"got {x.dtype}")
        N, L = (x.shape[0], x.shape[1]) if self.batch_first else (x.shape[1], x.shape[0])
        hx = self._initial_state(hx, x, N)
        if lengths is None:
            return hx, None
        lengths = _check_lengths(name, lengths, N, L).to(x.device)
        return hx, sequence_mask(lengths, L).t().unsqueeze(-1)  # (L, N, 1)

    def _direction(self, x, state, k, reverse, mask):
        """Layer k, one direction, over x (L, N, I_k) -> (outputs (L, N, H), final state)."""
        sfx = f"l{k}_reverse" if reverse else f"l{k}"
        W_ih, W_hh = getattr(self, f"weight_ih_{sfx}"), getattr(self, f"weight_hh_{sfx}")
        b_ih, b_hh = (getattr(self, f"bias_ih_{sfx}"), getattr(self, f"bias_hh_{sfx}")) \
            if self.bias else (None, None)
        # x_t W_ih^T + b_ih for every t in one matmul: (L, N, I_k) -> (L, N, G*H)
        gi = _input_part(x, W_ih, b_ih, b_hh) if self._fold_bias else F.linear(x, W_ih, b_ih)
        gi, b_hh, W_hh_T = gi.unbind(0), (None if self._fold_bias else b_hh), W_hh.t()
        outputs = [None] * len(gi)
        for t in (range(len(gi) - 1, -1, -1) if reverse else range(len(gi))):
            new = self._step(gi[t], state, W_hh_T, b_hh)
            if mask is not None:  # past a sequence's end: keep its state, output 0
                new = tuple(torch.where(mask[t], a, b) for a, b in zip(new, state))
                outputs[t] = torch.where(mask[t], new[0], 0.0)
            else:
                outputs[t] = new[0]
            state = new
        return torch.stack(outputs), state  # (L, N, H)

    def forward(self, x, hx=None, lengths=None):
        hx, mask = self._check_forward(x, hx, lengths)
        x = x.transpose(0, 1) if self.batch_first else x  # (L, N, I)
        D, finals = 1 + self.bidirectional, []
        for k in range(self.num_layers):
            outs = []
            for d in range(D):
                out, state = self._direction(x, tuple(s[k * D + d] for s in hx), k, d == 1, mask)
                outs.append(out)
                finals.append(state)
            x = torch.cat(outs, dim=2) if D == 2 else outs[0]  # (L, N, D*H)
        output = x.transpose(0, 1) if self.batch_first else x
        h_n = tuple(torch.stack(s) for s in zip(*finals))  # each (D*num_layers, N, H)
        return output, (h_n if self.kind == "lstm" else h_n[0])


class LSTM(RNN):
    """Multi-layer LSTM (:func:`lstm_cell` unrolled); see :class:`RNN` for arguments and shapes.
    hx and the final state are pairs (h, c). Reference: ``torch.nn.LSTM``."""
    kind, _fold_bias = "lstm", True
    _step = staticmethod(_lstm_step)


class GRU(RNN):
    """Multi-layer GRU (:func:`gru_cell`, PyTorch's formulation); see :class:`RNN` for arguments
    and shapes. Reference: ``torch.nn.GRU``."""
    kind, _fold_bias = "gru", False  # b_hn sits inside r * (W_hn h + b_hn): it cannot be folded
    _step = staticmethod(_gru_step)


# ---------------------------------------------------------------- variable-length batches

def pad_sequences(sequences, batch_first=False, padding_value=0.0):
    """Stack sequences of different lengths into one padded tensor, and return their lengths.

    Args: sequences: a non-empty list of tensors (L_i, *) with the same trailing shape and dtype.
    Returns: (padded (L_max, N, *) or (N, L_max, *) with batch_first, lengths (N,) int64), where
        ``padded[:L_i, i] = sequences[i]`` and the rest is ``padding_value``.
    Reference: ``torch.nn.utils.rnn.pad_sequence`` (which does not return the lengths).
    """
    func = "pad_sequences"
    check_type(func, "sequences", sequences, (list, tuple), "a list of tensors")
    if not sequences:
        raise ValueError(f"{func}: sequences must hold at least one tensor; got an empty list")
    first = sequences[0]
    for i, s in enumerate(sequences):
        check_tensor(func, f"sequences[{i}]", s, floating=False)
        if s.ndim < 1 or s.shape[1:] != first.shape[1:] or s.dtype != first.dtype:
            raise ValueError(f"{func}: sequences must share the trailing shape "
                             f"{tuple(first.shape[1:])} and dtype {first.dtype}; "
                             f"sequences[{i}] has shape {tuple(s.shape)}, dtype {s.dtype}")
    lengths = torch.tensor([len(s) for s in sequences], dtype=torch.long)
    padded = first.new_full((int(lengths.max()), len(sequences), *first.shape[1:]), padding_value)
    for i, s in enumerate(sequences):
        padded[:len(s), i] = s  # writes into the new tensor only
    return (padded.transpose(0, 1) if batch_first else padded), lengths


def sequence_mask(lengths, max_len=None):
    """Boolean mask (N, max_len): ``mask[i, t] = t < lengths[i]`` (True on real steps).

    Args: lengths (N,) ints >= 0 (tensor or sequence); max_len >= max(lengths) (the default).
    """
    func = "sequence_mask"
    lengths = torch.as_tensor(lengths)
    if lengths.is_floating_point() or lengths.dtype == torch.bool:
        raise TypeError(f"{func}: lengths must hold integers; got dtype {lengths.dtype}")
    check_ndim(func, "lengths", lengths, 1, "(N,)")
    longest = int(lengths.max()) if len(lengths) else 0
    if len(lengths) and lengths.min() < 0:
        raise ValueError(f"{func}: lengths must be >= 0; got min {int(lengths.min())}")
    max_len = longest if max_len is None else check_int(func, "max_len", max_len, longest)
    return torch.arange(max_len, device=lengths.device) < lengths[:, None]  # (N, max_len)


def last_hidden(output, lengths, batch_first=False, bidirectional=False):
    """Each sequence's output at its last valid step, ``output[lengths[i] - 1, i]``.

    With ``bidirectional=True`` the second half of the features (the backward direction) is
    taken at t = 0 instead: the backward direction *ends* there, after reading the whole
    sequence. Either way the result equals the last layer's final states: ``h_n[-1]``, or
    ``cat(h_n[-2], h_n[-1])`` when bidirectional (for a padded batch run with ``lengths``).
    Args: output (L, N, D*H) ((N, L, D*H) with batch_first); lengths (N,) ints in [1, L].
    Returns: (N, D*H).
    """
    func = "last_hidden"
    check_tensor(func, "output", output)
    check_ndim(func, "output", output, 3, "(N, L, D*H)" if batch_first else "(L, N, D*H)")
    out = output.transpose(0, 1) if batch_first else output  # (L, N, D*H)
    lengths = _check_lengths(func, lengths, out.shape[1], out.shape[0]).to(out.device)
    last = out[lengths - 1, torch.arange(out.shape[1], device=out.device)]  # (N, D*H)
    if not bidirectional:
        return last
    if out.shape[2] % 2:
        raise ValueError(f"{func}: a bidirectional output needs an even feature size 2*H; "
                         f"got {out.shape[2]}")
    H = out.shape[2] // 2
    return torch.cat([last[:, :H], out[0, :, H:]], dim=1)  # forward at its end, backward at t=0


def rnn_parameter_count(kind, input_size, hidden_size, num_layers=1, bidirectional=False,
                        bias=True):
    r"""Number of parameters of ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` in closed form.

    .. math:: \sum_{k, d} G\,(H I_k + H^2 + 2H), \quad I_0 = I,\ I_{k>0} = D H

    with G = 1 (rnn), 4 (lstm), 3 (gru) gate blocks and D = 2 if bidirectional (2H: the two bias
    vectors, absent with bias=False).
    """
    func = "rnn_parameter_count"
    if kind not in GATES:
        raise ValueError(f"{func}: kind must be 'rnn', 'lstm' or 'gru'; got {kind!r}")
    I = check_int(func, "input_size", input_size, 1)
    H = check_int(func, "hidden_size", hidden_size, 1)
    D = 2 if bidirectional else 1
    total = 0
    for k in range(check_int(func, "num_layers", num_layers, 1)):
        I_k = I if k == 0 else D * H
        # G (H I_k + H H + 2H) per direction
        total += D * GATES[kind] * (H * I_k + H * H + (2 * H if bias else 0))
    return total
