"""FSRNet's input pipeline (tpgan_tf/models/fsrnet/inputs.py): the batch is the spec 1
degradation of the HR face and the spec 5 priors of its labels, read from face records with a
fixed order under a seed, per replica."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.core.config import apply_overrides, get_config
from tests.models.fsrnet.conftest import write_face_records
from tpgan_tf.models.fsrnet import degradation, inputs, priors


@pytest.fixture(scope="module")
def cfg():
    return get_config("tiny", "fsrnet")


def test_batch_is_the_degradation_and_the_priors_of_the_face(cfg):
    ex = inputs.random_examples(2, cfg, seed=1)
    batch = inputs.to_training_batch({k: tf.constant(v) for k, v in ex.items()}, cfg)
    hr = ex["hr"].astype(np.float32) / 255.0
    np.testing.assert_array_equal(batch["hr"].numpy(), hr)
    np.testing.assert_allclose(batch["x"].numpy(), degradation.degrade(hr).numpy(), atol=1e-6)
    np.testing.assert_allclose(
        batch["lr"].numpy(),
        np.clip(degradation.bicubic_downsample(hr, 8).numpy(), 0, 1), atol=1e-6)
    assert batch["lr"].shape == (2, 16, 16, 3) and batch["x"].shape == (2, 128, 128, 3)
    expected = priors.prior_maps(ex["landmarks"], ex["parsing"], cfg.priors.prior_set(), 128,
                                 cfg.priors.heatmap_sigma)
    np.testing.assert_array_equal(batch["priors"].numpy(), expected.numpy())
    assert batch["priors"].shape == (2, 64, 64, cfg.num_priors)
    # the parsing maps (after the 68 heatmaps) sum to one per cell
    np.testing.assert_allclose(batch["priors"].numpy()[..., 68:].sum(-1), 1.0, atol=1e-5)


def test_jpeg_switches_round_trip_hr_and_lr(cfg):
    jpeg = apply_overrides(cfg, ["degradation.jpeg_hr=true", "degradation.jpeg_lr=true"])
    ex = {k: tf.constant(v) for k, v in inputs.random_examples(1, cfg, seed=2).items()}
    plain, both = inputs.to_training_batch(ex, cfg), inputs.to_training_batch(ex, jpeg)
    hr = degradation.jpeg_roundtrip(plain["hr"], 75)
    np.testing.assert_array_equal(both["hr"].numpy(), hr.numpy())
    x = degradation.jpeg_roundtrip(degradation.degrade(hr), 75)
    np.testing.assert_allclose(both["x"].numpy(), x.numpy(), atol=1.5 / 255)
    assert np.abs(both["x"].numpy() - plain["x"].numpy()).max() > 1 / 255


def test_dataset_reads_records_in_a_seeded_order_and_splits_by_replica(cfg, tmp_path):
    path = str(tmp_path / "train-00000-of-00001.tfrecord")
    ex = write_face_records(path, cfg, 6)
    pattern = str(tmp_path / "train-*.tfrecord")
    take = lambda **kw: [b["hr"].numpy() for b in  # noqa: E731
                         inputs.make_dataset(pattern, cfg, 2, deterministic=True, seed=4,
                                             **kw).take(3)]
    first, second = take(), take()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    seen = np.concatenate(first)  # one epoch of 6 faces, shuffled
    found = sorted(int(np.argmin([np.abs(s - e / 255).sum() for e in ex["hr"]])) for s in seen)
    assert found == list(range(6))
    ctx = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=1,
                                     num_replicas_in_sync=2)
    [batch] = list(inputs.make_dataset(pattern, cfg, 1, shuffle=False, repeat=False, deterministic=True,
                                       input_context=ctx).take(1))
    np.testing.assert_array_equal(batch["hr"].numpy()[0], ex["hr"][1] / np.float32(255))
    evaluated = list(inputs.eval_dataset(pattern, cfg, 4))
    assert [len(b["name"]) for b in evaluated] == [4, 2]
    assert evaluated[1]["name"].numpy()[1] == b"face0_5"  # the sixth written (seed 0)
