from __future__ import annotations

import pytest

from stylelab.data import eval_pairs, split_indices

KEYS = [f"img_{i:03d}.jpg" for i in range(100)]


def test_split_is_deterministic_disjoint_and_complete():
    a = split_indices(KEYS, 0.1, 0.2, seed=0)
    assert a == split_indices(list(KEYS), 0.1, 0.2, seed=0)
    assert (len(a["train"]), len(a["val"]), len(a["test"])) == (70, 10, 20)
    assert sorted(a["train"] + a["val"] + a["test"]) == list(range(100))
    assert a != split_indices(KEYS, 0.1, 0.2, seed=1)


def test_split_does_not_depend_on_listing_order():
    a = split_indices(KEYS, 0.1, 0.1)
    reversed_keys = KEYS[::-1]
    b = split_indices(reversed_keys, 0.1, 0.1)
    for name in ("train", "val", "test"):
        assert {KEYS[i] for i in a[name]} == {reversed_keys[i] for i in b[name]}


def test_adding_files_moves_few_items():
    before = split_indices(KEYS, 0.1, 0.1)
    more = KEYS + [f"new_{i}.jpg" for i in range(5)]
    after = split_indices(more, 0.1, 0.1)
    side_before = {KEYS[i]: s for s, idx in before.items() for i in idx}
    side_after = {more[i]: s for s, idx in after.items() for i in idx}
    moved = [k for k in KEYS if side_before[k] != side_after[k]]
    assert len(moved) <= 5


def test_small_sets():
    assert split_indices(["a"], 0.1, 0.1) == {"train": [0], "val": [0], "test": [0]}
    three = split_indices(["a", "b", "c"], 0.1, 0.1)
    assert [len(three[s]) for s in ("train", "val", "test")] == [1, 1, 1]
    assert split_indices(["a", "b", "c"], 0.0, 0.0) == {"train": [0, 1, 2], "val": [], "test": []}


@pytest.mark.parametrize(("val", "test"), [(-0.1, 0.1), (0.5, 0.5), (1.0, 0.0)])
def test_bad_fractions(val, test):
    with pytest.raises(ValueError):
        split_indices(KEYS, val, test)


def test_eval_pairs_deterministic_distinct_and_capped():
    contents, styles = [f"c{i}" for i in range(3)], [f"s{i}" for i in range(4)]
    pairs = eval_pairs(contents, styles, 8, seed=0, salt="val")
    assert pairs == eval_pairs(contents, styles, 8, seed=0, salt="val")
    assert len(pairs) == len(set(pairs)) == 8
    assert {c for c, _ in pairs} == {0, 1, 2}  # round-robin over contents
    assert len(eval_pairs(contents, styles, 100)) == 12
    assert eval_pairs(contents, styles, 8, salt="test") != pairs
    assert eval_pairs([], styles, 8) == []
