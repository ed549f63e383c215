"""DR-GAN's SavedModel (tpgan_tf/models/drgan/serving.py through tpgan_tf/serving/export.py):
signatures against DrganServing.SIGNATURE_INPUTS, TF Serving's session loader in a fresh process,
outputs equal to the Keras networks (float within 1e-5), input checks.

The export is made once per module the way `python -m experiments.export --model=drgan
--config=tiny` does it (random weights of the preset, no --model_dir).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.core.runner import load_trained
from tpgan_tf.models.drgan import sampling
from tpgan_tf.models.drgan.inputs import eval_input
from tpgan_tf.models.drgan.serving import DrganServing
from tpgan_tf.models.drgan.task import DrganTask
from tpgan_tf.serving import export as ex

SEED = 11


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """(version dir, the same randomly initialised task built again for Keras calls)."""
    from experiments import export as export_script

    base = str(tmp_path_factory.mktemp("drgan_export"))
    keras.utils.set_random_seed(SEED)
    path = export_script.run(None, "tiny", base, "drgan")
    keras.utils.set_random_seed(SEED)
    task, _, _ = load_trained(preset="tiny", task="drgan")
    return path, task


@pytest.fixture(scope="module")
def loaded(exported):
    """tf.saved_model.load of the export (once per module)."""
    return tf.saved_model.load(exported[0])


def _faces(n, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 128, 128, 3), dtype=np.uint8)


def test_signatures_match_signature_inputs(exported):
    from tensorflow.core.protobuf import saved_model_pb2

    path, _ = exported
    assert path.endswith(os.path.join("drgan", "1"))
    model = saved_model_pb2.SavedModel()
    with open(os.path.join(path, "saved_model.pb"), "rb") as f:
        model.ParseFromString(f.read())
    sigs = model.meta_graphs[0].signature_def
    assert DrganTask.serving is DrganServing
    assert set(DrganServing.SIGNATURE_INPUTS) <= set(sigs)

    def spec(m):
        return {k: (tf.dtypes.as_dtype(v.dtype).name, [d.size for d in v.tensor_shape.dim])
                for k, v in m.items()}

    for name, wanted in DrganServing.SIGNATURE_INPUTS.items():
        got = spec(sigs[name].inputs)
        assert set(got) == set(wanted), name
        for key, (dtype, shape) in wanted.items():
            assert got[key][0] == dtype
            assert got[key][1][0] == -1  # any batch
            assert all(g in (-1, s) for g, s in zip(got[key][1][1:], shape)), (name, key)
            assert len(got[key][1]) == 1 + len(shape)
    assert spec(sigs["frontalize"].outputs) == {"frontal": ("uint8", [-1, 32, 32, 3])}
    assert spec(sigs["rotate"].outputs) == {"image": ("uint8", [-1, 32, 32, 3])}
    assert spec(sigs["encode"].outputs) == {"features": ("float32", [-1, 20]),
                                            "omega": ("float32", [-1, 1])}
    assert spec(sigs["fuse_and_frontalize"].outputs) == {
        "frontal": ("uint8", [-1, 32, 32, 3]), "features": ("float32", [-1, 20])}
    info = ex.read_export_info(path)
    assert info["model"] == "drgan" and info["config"]["name"] == "tiny"
    assert info["source"] == "random init (tiny)"
    assert info["pose_views_yaw_degrees"] == [-60, -45, -30, -15, 0, 15, 30, 45, 60]
    assert info["frontal_view"] == 4


_CHILD = textwrap.dedent(r"""
    import json, sys
    import numpy as np
    import tensorflow as tf
    export_dir, inputs_path, out_path = sys.argv[1:4]
    data = dict(np.load(inputs_path, allow_pickle=True))
    requests = json.loads(str(data.pop("requests")))
    out = {}
    with tf.compat.v1.Session(graph=tf.Graph()) as sess:
        meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], export_dir)
        for signature, feeds in requests.items():
            sig = meta.signature_def[signature]
            names = sorted(sig.outputs)
            values = sess.run([sig.outputs[k].name for k in names],
                              {sig.inputs[k].name: data[v] for k, v in feeds.items()})
            out.update({f"{signature}/{k}": v for k, v in zip(names, values)})
    np.savez(out_path, **out)
""")


def test_session_loader_in_a_fresh_process_equals_the_keras_networks(exported, tmp_path):
    """Every signature through tf.compat.v1.saved_model.loader.load (TF Serving's loader) in
    a process that imports only TensorFlow, on DrganServing.examples; float outputs equal the
    Keras encoder / decoder within 1e-5, uint8 images are their rounding."""
    path, task = exported
    examples = DrganServing.examples(task.config, 3, seed=1)
    arrays, requests = {}, {}
    for sig, feeds in examples.items():
        requests[sig] = {}
        for name, value in feeds.items():
            arrays[f"{sig}__{name}"] = value
            requests[sig][name] = f"{sig}__{name}"
    np.savez(tmp_path / "in.npz", requests=json.dumps(requests), **arrays)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-c", _CHILD, path, str(tmp_path / "in.npz"),
                           str(tmp_path / "out.npz")], capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = dict(np.load(tmp_path / "out.npz"))

    cfg = task.config
    image, pose = examples["rotate"]["image"], examples["rotate"]["pose"]
    x = eval_input(tf.constant(image), cfg.data.load_size, cfg.data.image_size)
    enc = task.encoder(x, training=False)
    np.testing.assert_allclose(got["encode/features"], enc["features"].numpy(), atol=1e-5)
    np.testing.assert_allclose(got["encode/omega"], enc["omega"].numpy(), atol=1e-6)
    code = sampling.pose_code(tf.constant(pose), cfg)
    z = tf.zeros([3, cfg.model.z_dim])
    keras_image = task.decoder({"features": enc["features"], "pose": code, "z": z},
                               training=False).numpy()
    np.testing.assert_allclose(got["rotate_float/image_float"], keras_image, atol=1e-5)
    expected8 = np.clip(np.round((keras_image + 1) * 127.5), 0, 255)
    assert np.abs(got["rotate/image"].astype(int) - expected8).max() <= 1
    frontal = task.decoder({"features": enc["features"],
                            "pose": sampling.pose_code(tf.fill([3], 4), cfg), "z": z},
                           training=False).numpy()
    frontal8 = np.clip(np.round((frontal + 1) * 127.5), 0, 255)
    assert np.abs(got["frontalize/frontal"].astype(int) - frontal8).max() <= 1
    np.testing.assert_array_equal(got["serving_default/frontal"], got["frontalize/frontal"])
    assert got["fuse_and_frontalize/frontal"].shape == (3, 32, 32, 3)


def test_fusion_of_copies_and_of_one_face_equals_its_frontal(loaded):
    model = loaded
    faces = _faces(2, seed=4)
    single = model.signatures["frontalize"](image=tf.constant(faces))["frontal"].numpy()
    one = model.signatures["fuse_and_frontalize"](images=tf.constant(faces[:, None]))
    np.testing.assert_array_equal(one["frontal"].numpy(), single)
    copies = model.signatures["fuse_and_frontalize"](
        images=tf.constant(np.repeat(faces[:, None], 3, axis=1)))
    np.testing.assert_allclose(copies["features"].numpy(), one["features"].numpy(), atol=1e-5)
    # The output of a face does not depend on the rest of the request (inference BN).
    alone = model.signatures["frontalize"](image=tf.constant(faces[:1]))["frontal"].numpy()
    np.testing.assert_array_equal(alone, single[:1])


def test_a_pose_outside_the_pose_set_is_an_error(loaded):
    model = loaded
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"view indices must be in \[0, 9\)"):
        model.signatures["rotate"](image=tf.constant(_faces(1)), pose=tf.constant([9]))


def test_python_endpoints_give_the_same_as_the_export(exported, loaded):
    _, task = exported
    end = DrganServing.for_task(task)
    assert DrganServing.for_task(task) is end  # one module (and one trace) per task
    faces = _faces(2, seed=5)
    model = loaded
    out = end.run("rotate", faces, np.array([0, 8], np.int32))["image"]
    np.testing.assert_array_equal(
        out, model.signatures["rotate"](image=tf.constant(faces),
                                        pose=tf.constant([0, 8], tf.int32))["image"].numpy())
