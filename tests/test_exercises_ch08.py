"""Chapter 8's checkers: the references pass and agree with the library (Concatenate's backward, a two-headed
model's gradient, PyDataset batches), every catalogued mistake gets its own hint, and learner-style bugs written
independently of the catalogue are recognised."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tinynn
from tinynn import autograd, backend
from tinynn.autograd import Tensor
from tinynn.exercises import CheckResult, ch08, checkers
from tinynn.layers import Concatenate, Dense, Input
from tinynn.testing import numerical_gradient
from tinynn.utils import PyDataset

ALL = list(checkers("ch08").items())
MISTAKES = [(name, chk, m) for name, chk in ALL for m in chk.mistakes]


def test_chapter_has_three_documented_checkers():
    assert [n for n, _ in ALL] == ["check_concat_backward", "check_fork_backward", "check_memmap_dataset"]
    for name, chk in ALL:
        assert name == f"check_{chk.name}" and chk.__doc__ and len(chk.mistakes) >= 3


@pytest.mark.parametrize("name,chk", ALL, ids=[n for n, _ in ALL])
def test_reference_passes(name, chk, capsys):
    r = chk(chk.reference)
    assert isinstance(r, CheckResult) and r.passed and r.hint is None
    assert capsys.readouterr().out.startswith(f"✓ {chk.name} passes {chk.n_tests} random tests")


@pytest.mark.parametrize("name,chk,mistake", MISTAKES, ids=[f"{n}-{m.key}" for n, _, m in MISTAKES])
def test_each_catalogued_mistake_gets_its_hint(name, chk, mistake, capsys):
    r = chk(mistake.fn)
    assert not r.passed and r.mistake == mistake.key and r.hint == mistake.hint
    assert capsys.readouterr().out.startswith(f"✗ {chk.name} fails test")


# --- the references are the library's math ------------------------------------------------------------
def test_concat_reference_equals_the_concatenate_layer_backward():
    rng = np.random.default_rng(0)
    for i in range(5):
        dy, sizes = ch08.check_concat_backward.make_case(rng, i).values()
        layer = Concatenate()
        layer([rng.normal(size=(*dy.shape[:-1], s)) for s in sizes])
        for a, b in zip(ch08.check_concat_backward.reference(dy, sizes), layer.backward(dy)):
            np.testing.assert_array_equal(a, b)


def test_fork_reference_is_the_gradient_of_a_two_headed_model_and_matches_finite_differences():
    backend.set_floatx("float64")
    try:
        rng = np.random.default_rng(1)
        h_in = Input(shape=(4,))
        heads = tinynn.Model(h_in, [Dense(3)(h_in), Dense(2)(h_in)])
        h_value = rng.normal(size=(5, 4))
        dy1, dy2 = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
        h = Tensor(h_value.copy(), requires_grad=True)
        autograd.backprop(heads._call_flat([h], True), [dy1, dy2])
        W1, W2 = heads.layers[1].kernel.value, heads.layers[2].kernel.value
        np.testing.assert_allclose(ch08.check_fork_backward.reference(W1, W2, dy1, dy2), h.grad, rtol=1e-12)

        def s():
            y1, y2 = heads.predict(h_value, verbose=0)
            return float((y1 * dy1).sum() + (y2 * dy2).sum())
        np.testing.assert_allclose(h.grad, numerical_gradient(s, h_value), atol=1e-7)
    finally:
        backend.set_floatx("float32")


def test_memmap_reference_trains_from_a_real_memmapped_file_with_every_sample(tmp_path):
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(50, 3)).astype("float32"), rng.integers(0, 2, size=(50, 1)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    ds = ch08.check_memmap_dataset.reference_class(np.load(tmp_path / "x.npy", mmap_mode="r"),
                                                   np.load(tmp_path / "y.npy", mmap_mode="r"), batch_size=16)
    assert len(ds) == math.ceil(50 / 16) == 4 and len(ds[3][0]) == 2
    np.testing.assert_array_equal(np.concatenate([ds[i][0] for i in range(len(ds))]), x)
    inputs = Input(shape=(3,))
    model = tinynn.Model(inputs, Dense(1, activation="sigmoid")(inputs))
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    assert len(model.fit(ds, epochs=2, verbose=0).history["loss"]) == 2


def test_row_counter_counts_slices_and_whole_reads():
    rc = ch08.RowCounter(np.arange(12.0).reshape(6, 2))
    rc[1:3]
    assert (rc.rows_read, rc.whole_reads) == (2, 0)
    np.asarray(rc)
    rc[:]
    assert (rc.rows_read, rc.whole_reads) == (14, 2)


# --- learner-style bugs, written independently of the catalogue -------------------------------------------
def test_concat_with_np_split_on_cumsum_passes_and_split_on_sizes_is_named():
    assert ch08.check_concat_backward(lambda dy, sizes: np.split(dy, np.cumsum(sizes)[:-1], axis=-1),
                                      verbose=False).passed
    r = ch08.check_concat_backward(lambda dy, sizes: np.split(dy, sizes[:-1], axis=-1), verbose=False)
    assert r.mistake == "sizes_as_offsets" and "running sum" in r.hint


def test_concat_returning_the_whole_dy_is_told_the_count():
    r = ch08.check_concat_backward(lambda dy, sizes: dy, verbose=False)
    assert not r.passed and "must return" in r.hint


def test_fork_that_overwrites_the_first_contribution_is_named():
    def fork_backward(W1, W2, dy1, dy2):
        dh = dy1 @ W1.T
        dh = dy2 @ W2.T          # meant +=
        return dh

    r = ch08.check_fork_backward(fork_backward, verbose=False)
    assert r.mistake == "last_only" and "+=" in r.hint


def test_fork_without_transpose_raises_with_the_shapes_hint():
    r = ch08.check_fork_backward(lambda W1, W2, dy1, dy2: dy1 @ W1 + dy2 @ W2, verbose=False)
    assert r.mistake == "exception" and "(N, H)" in r.hint


def test_dataset_with_int_division_len_and_a_list_copy_are_named():
    class Floor(PyDataset):
        def __init__(self, x, y, batch_size=32):
            super().__init__()
            self.x, self.y, self.b = x, y, batch_size

        def __len__(self):
            return int(len(self.x) / self.b)

        def __getitem__(self, i):
            return self.x[i * self.b:(i + 1) * self.b], self.y[i * self.b:(i + 1) * self.b]

    r = ch08.check_memmap_dataset(Floor, verbose=False)
    assert r.mistake == "floor_len" and "⌈N/b⌉" in r.hint

    class Copy(Floor):
        def __init__(self, x, y, batch_size=32):
            super().__init__(np.array(x), np.array(y), batch_size)

        def __len__(self):
            return -(-len(self.x) // self.b)

    r = ch08.check_memmap_dataset(Copy, verbose=False)
    assert r.mistake == "load_all" and "whole file" in r.hint


def test_dataset_slicing_all_rows_in_init_gets_the_whole_file_hint():
    class SliceAll(ch08.check_memmap_dataset.reference_class):
        def __init__(self, x, y, batch_size=32):
            super().__init__(x[:], y[:], batch_size)     # a copy of every row

    r = ch08.check_memmap_dataset(SliceAll, verbose=False)
    assert not r.passed and "whole file" in r.hint


def test_a_failure_shows_the_small_failing_case_with_expected_and_received_values(capsys):
    r = ch08.check_memmap_dataset(ch08._FloorLen)
    out = capsys.readouterr().out
    assert "the failing case: x = [[0.] [1.] [2.] [3.] [4.]], y = [0 1 2 3 4], batch_size = 2" in r.example
    assert "len(dataset): expected 3" in r.example and "received 2" in r.example and r.example in out
    r = ch08.check_concat_backward(lambda dy, sizes: np.split(dy, sizes[:-1], axis=-1), verbose=False)
    assert "sizes = [2, 1, 3]" in r.example and "an empty array of shape (1, 1, 0)" in r.example
    r = ch08.check_fork_backward(lambda W1, W2, dy1, dy2: (dy1 @ W1).T, verbose=False)
    assert r.mistake == "exception" and "received: ValueError" in r.example
    assert ch08.check_fork_backward(ch08.check_fork_backward.reference, verbose=False).example is None
