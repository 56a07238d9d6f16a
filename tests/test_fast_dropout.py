"""UniformDropout behaves as inverted dropout: identity in eval mode, rate-share zeros and rescaled survivors."""

import pytest
import torch

from catalog_ml.nn.fast_dropout import UniformDropout


def test_eval_mode_passes_the_input_through_unchanged():
    layer = UniformDropout(0.3).eval()
    x = torch.randn(64, 32)
    assert torch.equal(layer(x), x)


def test_training_zeroes_the_rate_share_and_rescales_the_rest():
    torch.manual_seed(0)
    layer = UniformDropout(0.2).train()
    x = torch.ones(400, 500)
    y = layer(x)
    dropped = (y == 0).float().mean().item()
    assert dropped == pytest.approx(0.2, abs=0.005)
    assert torch.allclose(y[y != 0], torch.full_like(y[y != 0], 1 / 0.8))
    assert y.mean().item() == pytest.approx(1.0, abs=0.01)


def test_gradient_flows_through_survivors_only():
    torch.manual_seed(1)
    layer = UniformDropout(0.5).train()
    x = torch.ones(100, 100, requires_grad=True)
    y = layer(x)
    y.sum().backward()
    assert torch.equal(x.grad == 0, y == 0)
    assert torch.allclose(x.grad[y != 0], torch.full_like(x.grad[y != 0], 2.0))


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_a_rate_outside_zero_to_one_is_refused(rate):
    with pytest.raises(ValueError, match="dropout rate"):
        UniformDropout(rate)
