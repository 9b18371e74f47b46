import pytest
import torch

from stylelab.ops import group_shuffle, group_unshuffle


def test_channel_order_closed_form() -> None:
    x = torch.arange(6.0).reshape(1, 6, 1, 1)
    assert group_shuffle(x, 2).flatten().tolist() == [0, 3, 1, 4, 2, 5]
    assert group_shuffle(x, 3).flatten().tolist() == [0, 2, 4, 1, 3, 5]
    assert group_unshuffle(x, 2).flatten().tolist() == [0, 2, 4, 1, 3, 5]


@pytest.mark.parametrize("groups", [1, 2, 3, 4, 12])
def test_inverse(groups: int) -> None:
    x = torch.randn(2, 12, 3, 2)
    torch.testing.assert_close(group_unshuffle(group_shuffle(x, groups), groups), x)
    torch.testing.assert_close(group_shuffle(group_unshuffle(x, groups), groups), x)


def test_any_trailing_dims() -> None:
    x = torch.randn(2, 6, 5)
    assert torch.equal(group_shuffle(x, 2)[:, 1], x[:, 3])


def test_bad_groups_raise() -> None:
    with pytest.raises(ValueError, match="divisor"):
        group_shuffle(torch.randn(1, 6, 2, 2), 4)
    with pytest.raises(ValueError, match="divisor"):
        group_unshuffle(torch.randn(1, 6, 2, 2), 0)
    with pytest.raises(ValueError, match="B, C"):
        group_shuffle(torch.randn(6), 2)
