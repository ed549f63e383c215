"""FSRNet serving (tpgan_tf/models/fsrnet/serving.py and its export): the in-graph upsampling
is the training input's; `super_resolve` equals the Keras generator; the export of
`--config=tiny` alone (random weights) loads with TF Serving's session loader in a fresh
process and gives the same numbers; SuperResolver (the task's serving module) says its
SIGNATURE_INPUTS and gives example requests (`examples`) that match the export."""
from __future__ import annotations

import os

import numpy as np
import pytest
import tensorflow as tf

from tests.models.fsrnet.conftest import SMALL_OVERRIDES
from tpgan_tf.models.fsrnet import degradation
from tpgan_tf.models.fsrnet.serving import SuperResolver, to_uint8
from tpgan_tf.models.fsrnet.task import FsrnetTask
from tpgan_tf.serving import export


@pytest.fixture(scope="module")
def lr_faces():
    return np.random.default_rng(3).integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def fsrnet_export(tmp_path_factory):
    """`python -m experiments.export --model=fsrnet --config=tiny` (random weights)."""
    import keras

    from experiments.export import run

    keras.utils.set_random_seed(11)
    base = str(tmp_path_factory.mktemp("fsrnet_export"))
    return run(preset="tiny", export_base=base, model="fsrnet", overrides=SMALL_OVERRIDES)


def test_super_resolve_equals_the_keras_generator(fsrnet_inference, lr_faces):
    task, resolver = fsrnet_inference
    out = resolver.super_resolve_numpy(lr_faces)
    x = tf.clip_by_value(degradation.bicubic_upsample(lr_faces / np.float32(255), (128, 128)),
                         0, 1)
    expected = task.generator(x, training=False)["sr"].numpy()
    np.testing.assert_allclose(out["sr_float"], expected, atol=1e-5)
    np.testing.assert_array_equal(out["sr"], to_uint8(expected).numpy())
    up = resolver.super_resolve_upsampled_numpy(to_uint8(x).numpy())
    expected = task.generator(to_uint8(x).numpy() / np.float32(255), training=False)["sr"]
    np.testing.assert_allclose(up["sr_float"], expected.numpy(), atol=1e-5)
    priors = resolver.priors_numpy(lr_faces)
    assert priors["heatmaps"].shape == (2, 64, 64, 68) and priors["parsing"].shape == (2, 64, 64, 3)
    assert priors["landmarks"].shape == (2, 68, 2)
    with pytest.raises(ValueError, match=r"lr must be \[B, 16, 16, 3\]"):
        resolver.super_resolve_numpy(np.zeros((1, 32, 32, 3), np.uint8))


def test_to_uint8_rounds_and_clips():
    values = tf.constant([[-0.1, 0.0, 0.5 / 255, 1.49 / 255, 0.999, 1.2]])
    np.testing.assert_array_equal(to_uint8(values).numpy(), [[0, 0, 0, 1, 255, 255]])


def test_export_runs_in_the_session_loader_and_matches(fsrnet_export, fsrnet_inference,
                                                       lr_faces, tmp_path):
    info = export.read_export_info(fsrnet_export)
    assert info["model"] == "fsrnet" and info["source"] == "random init (tiny)"
    assert info["signatures"] == ["serving_default", "super_resolve", "super_resolve_upsampled",
                                  "priors"]
    assert (info["lr_size"], info["image_size"], info["num_landmarks"]) == (16, 128, 68)
    out, signatures = export.session_loader_check(fsrnet_export, "super_resolve",
                                                  {"lr": lr_faces}, str(tmp_path))
    assert sorted(signatures) == sorted(SuperResolver.SIGNATURE_INPUTS)
    loaded = tf.saved_model.load(fsrnet_export)
    direct = loaded.signatures["super_resolve"](lr=tf.constant(lr_faces))
    np.testing.assert_allclose(out["sr_float"], direct["sr_float"].numpy(), atol=1e-5)
    np.testing.assert_array_equal(out["sr"], direct["sr"].numpy())
    # the export holds the weights it was made from (seed 11), not the fixture's (seed 7)
    _, resolver = fsrnet_inference
    assert np.abs(resolver.super_resolve_numpy(lr_faces)["sr_float"] - out["sr_float"]).max() > 0


def test_signature_inputs_and_example_requests_match_the_export(fsrnet_export,
                                                               fsrnet_inference):
    loaded = tf.saved_model.load(fsrnet_export)
    task, _ = fsrnet_inference
    assert FsrnetTask.serving is SuperResolver
    examples = SuperResolver.examples(task.config, 3)
    assert set(examples) == set(SuperResolver.SIGNATURE_INPUTS)
    for name, inputs in SuperResolver.SIGNATURE_INPUTS.items():
        fn = loaded.signatures[name]
        specs = fn.structured_input_signature[1]
        assert set(specs) == set(inputs), name
        for key, (dtype, shape) in inputs.items():
            assert specs[key].dtype.name == dtype and tuple(specs[key].shape[1:]) == shape
            assert examples[name][key].dtype.name == dtype
            assert examples[name][key].shape == (3, *shape)
        out = fn(**{k: tf.constant(v) for k, v in examples[name].items()})
        if name == "priors":
            assert out["landmarks"].shape == (3, 68, 2)
        else:
            assert out["sr"].shape == (3, 128, 128, 3) and out["sr"].dtype == tf.uint8
    assert os.path.isdir(os.path.join(fsrnet_export, "variables"))
