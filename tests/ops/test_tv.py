import pytest
import torch

from stylelab.ops import total_variation


def test_step_image_closed_form() -> None:
    x = torch.zeros(2, 3, 4, 6)
    x[..., 3:] = 1.0  # one vertical edge of height 4 per channel
    x[1] *= 2.0
    # sum: 3 channels * 4 rows * jump; mean: / (C * H * (W - 1)) = 60; vertical direction is 0
    torch.testing.assert_close(total_variation(x, "sum"), torch.tensor([12.0, 24.0]))
    torch.testing.assert_close(total_variation(x, "mean"), torch.tensor([12.0 / 60, 24.0 / 60]))
    torch.testing.assert_close(total_variation(x.transpose(2, 3), "sum"), torch.tensor([12.0, 24.0]))


def test_directions_are_averaged_separately() -> None:
    x = torch.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]).reshape(1, 1, 3, 2)
    # |dv| = 2 at 4 places (mean 2); |dh| = 1 at 3 places (mean 1)
    torch.testing.assert_close(total_variation(x, "mean"), torch.tensor([3.0]))
    torch.testing.assert_close(total_variation(x, "sum"), torch.tensor([11.0]))


def test_constant_and_degenerate_sizes() -> None:
    assert total_variation(torch.full((3, 2, 5, 5), 0.3)).tolist() == [0.0, 0.0, 0.0]
    row = torch.tensor([0.0, 2.0, 1.0]).reshape(1, 1, 1, 3)
    torch.testing.assert_close(total_variation(row, "mean"), torch.tensor([1.5]))
    torch.testing.assert_close(total_variation(torch.ones(1, 1, 1, 1)), torch.tensor([0.0]))


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError, match="4-D"):
        total_variation(torch.randn(3, 4, 4))
    with pytest.raises(ValueError, match="reduction"):
        total_variation(torch.randn(1, 3, 4, 4), reduction="max")  # type: ignore[arg-type]
