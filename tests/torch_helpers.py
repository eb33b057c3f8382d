"""Helpers shared by the torch-based tests: seeded tensors and a shape/dtype/value comparison.

Tolerances (STYLE.md): float64 rtol=1e-6 (atol=1e-12 where values cross zero, e.g. normalised
outputs); float32 rtol=1e-4, atol=1e-5.
"""
import numpy as np
import torch

TOL64 = dict(rtol=1e-6, atol=1e-12)
TOL32 = dict(rtol=1e-4, atol=1e-5)
F64 = torch.float64


def randn(*shape, seed=0, dtype=F64, grad=False):
    t = torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)
    return t.requires_grad_(grad)


def close(ours, ref, tol=TOL64):
    """Same shape and dtype, values within tolerance."""
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    np.testing.assert_allclose(ours.detach().numpy(), ref.detach().numpy(), **tol)
