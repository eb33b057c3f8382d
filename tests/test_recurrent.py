"""Tests for companion.recurrent: cells and modules against torch's with copied weights (outputs,
final states and gradients of a loss with respect to the input, the initial state and every
parameter), variable-length batches against pack_padded_sequence, parameter counts against
torch, properties with hypothesis, and every validation message. The NumPy BPTT and
truncated_bptt (companion.bptt) are tested in test_bptt.py.

Tolerances: float64 ``rtol=1e-10, atol=1e-12`` (observed differences ~1e-16; the atol covers
values and gradients that cross zero); float32 ``rtol=1e-4, atol=1e-5`` (STYLE.md).
"""
import itertools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

from companion import recurrent as R

F64, F32 = torch.float64, torch.float32
TOL = {F64: dict(rtol=1e-10, atol=1e-12), F32: dict(rtol=1e-4, atol=1e-5)}
OURS = {"rnn": R.RNN, "rnn_relu": R.RNN, "lstm": R.LSTM, "gru": R.GRU}
TORCH = {"rnn": nn.RNN, "rnn_relu": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def randn(*shape, seed=0, dtype=F64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def close(ours, ref, dtype=F64):
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    torch.testing.assert_close(ours, ref, **TOL[dtype])


def make_torch(kind, I, H, dtype=F64, seed=0, **kw):
    torch.manual_seed(seed)
    if kind == "rnn_relu":
        kw["nonlinearity"] = "relu"
    return TORCH[kind](I, H, **kw).to(dtype)


def run(module, x, hx, lengths=None, packed=False, seed=1):
    """Forward, a weighted loss of the output and final states, backward: values and gradients."""
    x = x.clone().requires_grad_()
    hx = None if hx is None else tuple(s.clone().requires_grad_() for s in hx)
    h_arg = None if hx is None else (hx if len(hx) == 2 else hx[0])
    module.zero_grad()
    if packed:
        bf = module.batch_first
        p = pack_padded_sequence(x, lengths, batch_first=bf, enforce_sorted=False)
        out, state = module(p, h_arg)
        out = pad_packed_sequence(out, batch_first=bf, total_length=x.shape[1 if bf else 0])[0]
    else:
        out, state = module(x, h_arg, lengths) if lengths is not None else module(x, h_arg)
    states = state if isinstance(state, tuple) else (state,)
    values = [out, *states]
    loss = sum((v * randn(*v.shape, seed=seed + i, dtype=v.dtype)).sum() for i, v in enumerate(values))
    loss.backward()
    grads = [x.grad] + ([] if hx is None else [s.grad for s in hx])
    grads += [p.grad for _, p in sorted(module.named_parameters())]
    return values, grads


def initial_state(kind, D, L_, N, H, dtype, given):
    if not given:
        return None
    n = 2 if kind == "lstm" else 1
    return tuple(randn(D * L_, N, H, seed=10 + i, dtype=dtype) for i in range(n))


# ================================================================ cells

CELLS = {"rnn": (R.rnn_cell, nn.RNNCell), "lstm": (R.lstm_cell, nn.LSTMCell),
         "gru": (R.gru_cell, nn.GRUCell)}


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kind", ["rnn", "rnn_relu", "lstm", "gru"])
def test_cells_match_one_step_of_torch_cells(kind, bias, dtype):
    ours, cls = CELLS[kind.split("_")[0]]
    torch.manual_seed(0)
    kw = dict(nonlinearity="relu") if kind == "rnn_relu" else {}
    ref = cls(3, 5, bias=bias, **kw).to(dtype)
    x, h, c = randn(4, 3, dtype=dtype), randn(4, 5, seed=1, dtype=dtype), randn(4, 5, seed=2, dtype=dtype)
    x0, h0, c0 = x.clone(), h.clone(), c.clone()
    params = [ref.weight_ih, ref.weight_hh, ref.bias_ih, ref.bias_hh] if bias else \
        [ref.weight_ih, ref.weight_hh]
    state = (h, c) if kind == "lstm" else h
    got = ours(x, state, *params, **kw)
    want = ref(x, state)
    for a, b in zip(got if kind == "lstm" else [got], want if kind == "lstm" else [want]):
        close(a, b, dtype)
    # gradients of the same loss through ours and through torch's cell
    grads = []
    for fn in (lambda: ours(x, state, *params, **kw), lambda: ref(x, state)):
        out = fn()
        loss = sum((o * randn(*o.shape, seed=5, dtype=dtype)).sum()
                   for o in (out if kind == "lstm" else [out]))
        grads.append(torch.autograd.grad(loss, params))
    for a, b in zip(*grads):
        close(a, b, dtype)
    assert torch.equal(x, x0) and torch.equal(h, h0) and torch.equal(c, c0)  # inputs unchanged


def test_gru_cell_is_pytorchs_formulation_not_the_original():
    torch.manual_seed(0)
    x, h = randn(2, 3), randn(2, 4, seed=1)
    W_ih, W_hh, b_ih, b_hh = randn(12, 3, seed=2), randn(12, 4, seed=3), randn(12, seed=4), randn(12, seed=5)
    r = torch.sigmoid(x @ W_ih[:4].T + b_ih[:4] + h @ W_hh[:4].T + b_hh[:4])
    z = torch.sigmoid(x @ W_ih[4:8].T + b_ih[4:8] + h @ W_hh[4:8].T + b_hh[4:8])
    torch_n = torch.tanh(x @ W_ih[8:].T + b_ih[8:] + r * (h @ W_hh[8:].T + b_hh[8:]))
    cho_n = torch.tanh(x @ W_ih[8:].T + b_ih[8:] + (r * h) @ W_hh[8:].T + b_hh[8:])
    got = R.gru_cell(x, h, W_ih, W_hh, b_ih, b_hh)
    close(got, (1 - z) * torch_n + z * h)
    assert (got - ((1 - z) * cho_n + z * h)).abs().max() > 1e-3


# ================================================================ modules vs torch

GRID = list(itertools.product(["rnn", "rnn_relu", "lstm", "gru"], [1, 2], [False, True],
                              [False, True], [True, False], [False, True]))


@pytest.mark.parametrize("kind, num_layers, bidirectional, batch_first, bias, given_hx", GRID,
                         ids=["-".join(map(str, g)) for g in GRID])
def test_modules_match_torch_outputs_states_and_gradients(kind, num_layers, bidirectional,
                                                          batch_first, bias, given_hx):
    L, N, I, H, D = 5, 3, 4, 6, 1 + bidirectional
    ref = make_torch(kind, I, H, num_layers=num_layers, bidirectional=bidirectional,
                     batch_first=batch_first, bias=bias)
    ours = OURS[kind].from_torch(ref)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
    x = randn(*((N, L, I) if batch_first else (L, N, I)))
    hx = initial_state(kind, D, num_layers, N, H, F64, given_hx)
    x0 = x.clone()
    (v_ours, g_ours), (v_ref, g_ref) = run(ours, x, hx), run(ref, x, hx)
    assert v_ours[0].shape == ((N, L, D * H) if batch_first else (L, N, D * H))
    for a, b in zip(v_ours + g_ours, v_ref + g_ref):
        close(a, b)
    assert torch.equal(x, x0)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_modules_match_torch_in_float32(kind):
    ref = make_torch(kind, 4, 8, F32, num_layers=2, bidirectional=True)
    ours = OURS[kind].from_torch(ref)
    assert ours.weight_hh_l1_reverse.dtype == F32
    x = randn(7, 3, 4, dtype=F32)
    for a, b in zip(*(sum(run(m, x, None), []) for m in (ours, ref))):
        close(a, b, F32)


def test_state_dicts_load_both_ways_and_init_follows_torch():
    ours = R.LSTM(3, 5, num_layers=2, bidirectional=True)
    ref = nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    assert {k: v.shape for k, v in ours.state_dict().items()} == \
        {k: v.shape for k, v in ref.state_dict().items()}
    ref.load_state_dict(ours.state_dict())  # ours -> torch works as well
    assert all(p.abs().max() <= 1 / 5 ** 0.5 for p in ours.parameters())  # U(-1/sqrt(H), 1/sqrt(H))
    assert "num_layers=2" in repr(ours) and "bidirectional=True" in repr(ours)


# ================================================================ variable-length batches

PACK = list(itertools.product(["rnn", "lstm", "gru"], [False, True], [False, True], [False, True]))


@pytest.mark.parametrize("kind, bidirectional, batch_first, given_hx", PACK,
                         ids=["-".join(map(str, g)) for g in PACK])
def test_lengths_match_pack_padded_sequence(kind, bidirectional, batch_first, given_hx):
    L, N, I, H, D = 7, 4, 3, 5, 1 + bidirectional
    ref = make_torch(kind, I, H, num_layers=2, bidirectional=bidirectional, batch_first=batch_first)
    ours = OURS[kind].from_torch(ref)
    x = randn(*((N, L, I) if batch_first else (L, N, I)))
    lengths = torch.tensor([5, 1, 6, 3])  # unsorted, and shorter than L everywhere
    hx = initial_state(kind, D, 2, N, H, F64, given_hx)
    l0 = lengths.clone()
    (v_ours, g_ours) = run(ours, x, hx, lengths.tolist())  # a list works too
    (v_ref, g_ref) = run(ref, x, hx, lengths, packed=True)
    for a, b in zip(v_ours + g_ours, v_ref + g_ref):
        close(a, b)
    assert torch.equal(lengths, l0)
    # last_hidden reads the final states of the last layer off the output
    last = R.last_hidden(v_ours[0], lengths, batch_first=batch_first, bidirectional=bidirectional)
    close(last, torch.cat(list(v_ours[1][-D:]), dim=1))


@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequences_matches_pad_sequence(batch_first):
    seqs = [randn(n, 2, 3, seed=n) for n in (4, 1, 6, 3)]
    copies = [s.clone() for s in seqs]
    padded, lengths = R.pad_sequences(seqs, batch_first=batch_first, padding_value=-1.5)
    close(padded, pad_sequence(seqs, batch_first=batch_first, padding_value=-1.5))
    assert lengths.dtype == torch.int64 and lengths.tolist() == [4, 1, 6, 3]
    assert all(torch.equal(a, b) for a, b in zip(seqs, copies))
    ints, _ = R.pad_sequences([torch.tensor([3, 1]), torch.tensor([2])])  # token ids pad too
    assert ints.tolist() == [[3, 2], [1, 0]]


def test_sequence_mask_and_last_hidden_by_hand():
    mask = R.sequence_mask(torch.tensor([2, 0, 3]), max_len=4)
    assert mask.tolist() == [[True, True, False, False], [False] * 4, [True, True, True, False]]
    assert R.sequence_mask([1, 2]).tolist() == [[True, False], [True, True]]
    out = torch.arange(4 * 2 * 6, dtype=F64).reshape(4, 2, 6)  # (L, N, D*H)
    lengths = torch.tensor([3, 1])
    close(R.last_hidden(out, lengths), torch.stack([out[2, 0], out[0, 1]]))
    close(R.last_hidden(out.transpose(0, 1), lengths, batch_first=True), torch.stack([out[2, 0], out[0, 1]]))
    bi = R.last_hidden(out, lengths, bidirectional=True)
    close(bi, torch.stack([torch.cat([out[2, 0, :3], out[0, 0, 3:]]), out[0, 1]]))


# ================================================================ parameter counts

@pytest.mark.parametrize("kind, num_layers, bidirectional, bias",
                         list(itertools.product(["rnn", "lstm", "gru"], [1, 2, 3], [False, True],
                                                [True, False])))
def test_parameter_count_matches_torch(kind, num_layers, bidirectional, bias):
    ref = TORCH[kind](7, 5, num_layers=num_layers, bidirectional=bidirectional, bias=bias)
    ours = OURS[kind](7, 5, num_layers=num_layers, bidirectional=bidirectional, bias=bias)
    want = sum(p.numel() for p in ref.parameters())
    assert R.rnn_parameter_count(kind, 7, 5, num_layers, bidirectional, bias=bias) == want
    assert sum(p.numel() for p in ours.parameters()) == want


# ================================================================ properties

@settings(max_examples=25, deadline=None)
@given(kind=st.sampled_from(["rnn", "lstm", "gru"]), L=st.integers(1, 5), N=st.integers(1, 3),
       I=st.integers(1, 4), H=st.integers(1, 4), layers=st.integers(1, 2), bi=st.booleans(),
       bf=st.booleans(), data=st.data())
def test_shapes_and_values_match_torch_for_any_size(kind, L, N, I, H, layers, bi, bf, data):
    ref = make_torch(kind, I, H, num_layers=layers, bidirectional=bi, batch_first=bf)
    ours = OURS[kind].from_torch(ref)
    x = randn(*((N, L, I) if bf else (L, N, I)))
    lengths = torch.tensor(data.draw(st.lists(st.integers(1, L), min_size=N, max_size=N)))
    out, state = ours(x, lengths=lengths)
    D = 1 + bi
    assert out.shape == ((N, L, D * H) if bf else (L, N, D * H)) and out.dtype == F64
    for s in (state if kind == "lstm" else (state,)):
        assert s.shape == (D * layers, N, H)
    mask = R.sequence_mask(lengths, L)
    assert mask.sum(1).tolist() == lengths.tolist()
    assert torch.all(out[~mask if bf else ~mask.T] == 0)  # zero outputs past each end
    with torch.no_grad():
        ref_out = pad_packed_sequence(ref(pack_padded_sequence(x, lengths, batch_first=bf,
                                      enforce_sorted=False))[0], batch_first=bf, total_length=L)[0]
    close(out.detach(), ref_out)


@settings(max_examples=25, deadline=None)
@given(lengths=st.lists(st.integers(0, 5), min_size=1, max_size=4), bf=st.booleans())
def test_pad_sequences_round_trip(lengths, bf):
    seqs = [randn(n, 2, seed=i) for i, n in enumerate(lengths)]
    padded, got = R.pad_sequences(seqs, batch_first=bf)
    assert got.tolist() == lengths and padded.shape[:2] == ((len(seqs), max(lengths)) if bf else
                                                           (max(lengths), len(seqs)))
    for i, s in enumerate(seqs):
        assert torch.equal(padded[i, :len(s)] if bf else padded[:len(s), i], s)
    assert R.sequence_mask(got).sum().item() == sum(lengths)


# ================================================================ bad input

W = dict(weight_ih=randn(20, 3), weight_hh=randn(20, 5))


@pytest.mark.parametrize("call, error, match", [
    (lambda: R.rnn_cell(randn(3), randn(4, 5), randn(5, 3), randn(5, 5)), ValueError,
     r"rnn_cell: x must have 2 dimensions \(N, input_size\); got shape \(3,\)"),
    (lambda: R.rnn_cell(randn(4, 3).numpy(), randn(4, 5), randn(5, 3), randn(5, 5)), TypeError,
     "rnn_cell: x must be a torch.Tensor; got ndarray"),
    (lambda: R.lstm_cell(randn(4, 4), (randn(4, 5), randn(4, 5)), **W), ValueError,
     r"lstm_cell: weight_ih must have shape \(20, 4\); got \(20, 3\)"),
    (lambda: R.lstm_cell(randn(4, 3), randn(4, 5), **W), TypeError,
     "lstm_cell: state must be a pair"),
    (lambda: R.lstm_cell(randn(4, 3), (randn(4, 5), randn(4, 6)), **W), ValueError,
     r"lstm_cell: c must have shape \(4, 5\); got \(4, 6\)"),
    (lambda: R.gru_cell(randn(4, 3), randn(4, 5), randn(15, 3), randn(15, 4)), ValueError,
     r"gru_cell: weight_hh must have shape \(12, 4\); got \(15, 4\)"),
    (lambda: R.gru_cell(randn(4, 3), randn(2, 5), randn(15, 3), randn(15, 5)), ValueError,
     r"gru_cell: h must have shape \(4, 5\); got \(2, 5\)"),
    (lambda: R.gru_cell(randn(4, 3), randn(4, 5), randn(15, 3), randn(15, 5), randn(15), randn(5)),
     ValueError, r"gru_cell: bias_hh must have shape \(15,\); got \(5,\)"),
    (lambda: R.rnn_cell(randn(4, 3), randn(4, 5), randn(5, 3), randn(5, 5), nonlinearity="gelu"),
     ValueError, "rnn_cell: nonlinearity must be 'tanh' or 'relu'; got 'gelu'"),
])
def test_cell_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_module_errors():
    lstm, gru = R.LSTM(3, 5), R.GRU(3, 5, num_layers=2)
    cases = [
        (lambda: R.RNN(3, 0), ValueError, "RNN: hidden_size must be an integer >= 1; got 0"),
        (lambda: R.RNN(3, 5, nonlinearity="sigmoid"), ValueError,
         "RNN: nonlinearity must be 'tanh' or 'relu'; got 'sigmoid'"),
        (lambda: R.LSTM(3, 5, nonlinearity="relu"), ValueError, "LSTM: nonlinearity applies to RNN only"),
        (lambda: lstm(randn(7, 3)), ValueError,
         r"LSTM: x must have 3 dimensions \(L, N, input_size\); got shape \(7, 3\)"),
        (lambda: R.LSTM(3, 5, batch_first=True)(randn(7, 3)), ValueError, r"\(N, L, input_size\)"),
        (lambda: lstm(randn(7, 4, 2)), ValueError,
         r"LSTM: x must have input_size=3 features in its last dimension; got shape \(7, 4, 2\)"),
        (lambda: lstm(randn(7, 4, 3, dtype=torch.float64)), TypeError,
         "LSTM: x must have the parameters' dtype torch.float32; got torch.float64"),
        (lambda: lstm(randn(7, 4, 3, dtype=F32), randn(1, 4, 5, dtype=F32)), TypeError,
         r"LSTM: hx must be a pair \(h_0, c_0\)"),
        (lambda: gru(randn(7, 4, 3, dtype=F32), randn(1, 4, 5, dtype=F32)), ValueError,
         r"GRU: h_0 must have shape \(2, 4, 5\); got \(1, 4, 5\)"),
        (lambda: gru(randn(7, 4, 3, dtype=F32), lengths=[7, 8, 1, 2]), ValueError,
         "GRU: lengths must be between 1 and L=7; got min 1, max 8"),
        (lambda: gru(randn(7, 4, 3, dtype=F32), lengths=[7, 0, 1, 2]), ValueError,
         "GRU: lengths must be between 1 and L=7; got min 0, max 7"),
        (lambda: gru(randn(7, 4, 3, dtype=F32), lengths=[7, 1]), ValueError,
         r"GRU: lengths must have shape \(4,\); got \(2,\)"),
        (lambda: gru(randn(7, 4, 3, dtype=F32), lengths=[7.0, 1.0, 2.0, 3.0]), TypeError,
         "GRU: lengths must hold integers; got dtype torch.float32"),
        (lambda: R.LSTM.from_torch(nn.GRU(3, 5)), TypeError,
         "LSTM.from_torch: module must be a torch.nn.LSTM; got GRU"),
        (lambda: R.RNN.from_torch(nn.LSTM(3, 5)), TypeError,
         "RNN.from_torch: module must be a torch.nn.RNN; got LSTM"),
        (lambda: R.LSTM.from_torch(nn.LSTM(3, 5, proj_size=2)), ValueError,
         "LSTM.from_torch: proj_size is not supported; got 2"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()


def test_padding_helper_errors():
    cases = [
        (lambda: R.pad_sequences([]), ValueError, "pad_sequences: sequences must hold at least one"),
        (lambda: R.pad_sequences(randn(3, 2)), TypeError, "pad_sequences: sequences must be a list"),
        (lambda: R.pad_sequences([randn(3, 2), randn(2, 3)]), ValueError,
         r"pad_sequences: sequences must share the trailing shape \(2,\).*sequences\[1\] has shape \(2, 3\)"),
        (lambda: R.pad_sequences([randn(3, 2), [1.0]]), TypeError,
         r"pad_sequences: sequences\[1\] must be a torch.Tensor"),
        (lambda: R.sequence_mask(torch.tensor([1.5])), TypeError, "sequence_mask: lengths must hold integers"),
        (lambda: R.sequence_mask(torch.ones(2, 2, dtype=torch.long)), ValueError,
         r"sequence_mask: lengths must have 1 dimensions \(N,\)"),
        (lambda: R.sequence_mask([2, -1]), ValueError, "sequence_mask: lengths must be >= 0; got min -1"),
        (lambda: R.sequence_mask([2, 5], max_len=3), ValueError,
         "sequence_mask: max_len must be an integer >= 5; got 3"),
        (lambda: R.last_hidden(randn(4, 2), [1, 2]), ValueError, "last_hidden: output must have 3 dimensions"),
        (lambda: R.last_hidden(randn(4, 2, 6), [1, 5]), ValueError,
         "last_hidden: lengths must be between 1 and L=4; got min 1, max 5"),
        (lambda: R.last_hidden(randn(4, 2, 5), [1, 2], bidirectional=True), ValueError,
         "last_hidden: a bidirectional output needs an even feature size 2.H; got 5"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()


def test_parameter_count_errors():
    cases = [
        (lambda: R.rnn_parameter_count("transformer", 3, 4), ValueError,
         "rnn_parameter_count: kind must be 'rnn', 'lstm' or 'gru'; got 'transformer'"),
        (lambda: R.rnn_parameter_count("gru", 3, 0), ValueError,
         "rnn_parameter_count: hidden_size must be an integer >= 1; got 0"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()
