"""TP-GAN's SavedModel (the Frontalizer, TP-GAN's serving module, through tpgan_tf/serving/export.py): its
signatures, TF Serving's session loader in a fresh process, the mirror contract.

One tiny model and one export are made per test session (tests/conftest.py: `tiny_tpgan`,
`tiny_export`) and shared with the frontalizer, serving-client and frontalize tests.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import cv2
import numpy as np
import tensorflow as tf

from tests.conftest import assert_uint8_close, decode_png, photo, png_bytes
from tpgan_tf.faces import alignment as al
from tpgan_tf.faces import landmarks_tf
from tpgan_tf.faces import parts as pt
from tpgan_tf.faces.landmarks import mirror_landmarks, to_index_points
from tpgan_tf.models.tpgan.serving import to_uint8
from tpgan_tf.serving import export as ex


def keras_reference(generator, images, points) -> np.ndarray:
    """G's float output by the eager Keras call on inputs built with numpy (data_prep's
    training path), z = 0, flipped back for faces that were mirrored."""
    batch = {k: [] for k in ("image", "eye_left", "eye_right", "nose", "mouth")}
    flipped = []
    for image, p in zip(images, points):
        patches, padded = pt.crop_parts(image, to_index_points(p.astype(np.float64)), 20)
        left = p[2, 0] < 0.5 * (p[0, 0] + p[1, 0])
        if left:
            image, _, patches, _ = pt.mirror_sample(image, p, patches, padded)
        flipped.append(left)
        for key, value in {"image": image, **patches}.items():
            batch[key].append(value.astype(np.float32) / 256.0)
    inputs = {k: tf.constant(np.stack(v)) for k, v in batch.items()}
    inputs["z"] = tf.zeros([len(images), generator.z_dim])
    out = generator(inputs, training=False)["img128"].numpy()
    return np.stack([o[:, ::-1] if f else o for o, f in zip(out, flipped)])


# ---------------------------------------------------------------- tests

def test_layout_and_signature_defs(tiny_export):
    from tensorflow.core.protobuf import saved_model_pb2

    path = tiny_export
    assert path.endswith(os.path.join("export", "tpgan", "1"))
    model = saved_model_pb2.SavedModel()
    with open(os.path.join(path, "saved_model.pb"), "rb") as f:
        model.ParseFromString(f.read())
    meta = model.meta_graphs[0]
    assert list(meta.meta_info_def.tags) == ["serve"]
    sigs = meta.signature_def

    def spec(tensor_map):
        return {k: (tf.dtypes.as_dtype(v.dtype).name, [d.size for d in v.tensor_shape.dim])
                for k, v in tensor_map.items()}

    aligned = {"image": ("uint8", [-1, 128, 128, 3]), "landmarks": ("float32", [-1, 5, 2])}
    assert spec(sigs["serving_default"].inputs) == aligned
    assert spec(sigs["serving_default"].outputs) == {"frontal": ("uint8", [-1, 128, 128, 3])}
    assert spec(sigs["frontal_float"].inputs) == aligned
    assert spec(sigs["frontal_float"].outputs) == {
        "frontal_float": ("float32", [-1, 128, 128, 3])}
    assert spec(sigs["frontalize_image"].inputs) == {
        "image_bytes": ("string", [-1]), "landmarks": ("float32", [-1, 5, 2])}
    assert spec(sigs["frontalize_image"].outputs) == {
        "frontal_png_bytes": ("string", [-1]), "aligned_png_bytes": ("string", [-1]),
        "aligned_landmarks": ("float32", [-1, 5, 2])}
    info = json.load(open(os.path.join(path, "assets.extra", ex.INFO_FILENAME)))
    assert info["bn_mode"] == "batch_stats" and info["output_range"] == "minmax"
    assert info["nose_offset"] == 20 and info["config"]["name"] == "tiny"
    assert info["model"] == "tpgan" and info["config"]["task"] == "tpgan"
    assert info["signatures"] == ["serving_default", "frontalize_image", "frontal_float"]
    assert ex.read_export_info(path) == info
    assert not [d for d in os.listdir(os.path.dirname(path)) if ".tmp-" in d]


_SESSION_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf

    export_dir, data_path, out_path = sys.argv[1:4]
    tf.compat.v1.disable_eager_execution()
    data = np.load(data_path, allow_pickle=True)  # our own file: object arrays of bytes
    result, errors = {}, {}
    with tf.compat.v1.Session(graph=tf.Graph()) as sess:
        meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], export_dir)
        sigs = meta.signature_def

        def run(name, **feeds):
            sig = sigs[name]
            fetch = {k: v.name for k, v in sig.outputs.items()}
            return sess.run(fetch, {sig.inputs[k].name: v for k, v in feeds.items()})

        for k, v in run("serving_default", image=data["images"],
                        landmarks=data["points"]).items():
            result["serving_default/" + k] = v
        for k, v in run("frontal_float", image=data["images"],
                        landmarks=data["points"]).items():
            result["frontal_float/" + k] = v
        photos = [bytes(b) for b in data["photos"]]
        for k, v in run("frontalize_image", image_bytes=np.array(photos, dtype=object),
                        landmarks=data["photo_points"]).items():
            result["frontalize_image/" + k] = v
        bad = {
            "outside": ("serving_default", dict(image=data["images"][:1],
                                                landmarks=data["points"][:1] + 200)),
            "nan": ("serving_default", dict(image=data["images"][:1],
                                            landmarks=data["points"][:1] * np.nan)),
            "batch": ("serving_default", dict(image=data["images"][:2],
                                              landmarks=data["points"][:1])),
            "shape": ("serving_default", dict(image=data["images"][:1, :64],
                                              landmarks=data["points"][:1])),
            "bytes": ("frontalize_image", dict(image_bytes=np.array([b"no image"], object),
                                               landmarks=data["photo_points"][:1])),
            "photo_outside": ("frontalize_image", dict(
                image_bytes=np.array(photos[:1], object),
                landmarks=data["photo_points"][:1] - 1000)),
        }
        for key, (name, feeds) in bad.items():
            try:
                run(name, **feeds)
                errors[key] = None
            except Exception as err:  # the session's error type and message
                errors[key] = type(err).__name__ + ": " + str(err)[:400]
    np.savez(out_path, **{k: np.asarray(v) for k, v in result.items()})
    project = [m for m in sys.modules if m.split(".")[0] in ("tpgan_tf", "data_prep",
                                                             "experiments")]
    print(json.dumps({"errors": errors, "project_modules": project}))
""")


def test_tf_serving_session_loader_in_a_fresh_process(tmp_path, tiny_tpgan, tiny_export,
                                                      sample_faces):
    """TF Serving's loader (a TF1 Session + loader.load) in a process that imports only
    TensorFlow; every signature equals the Keras model / the Python inference path."""
    tiny = tiny_tpgan
    export_dir = tiny_export
    images, points = sample_faces
    raw_a, lm_a = photo(1, 30, size=(640, 480))  # shrunk by the alignment (s < 1)
    raw_b, lm_b = photo(2, -30, size=(200, 150))  # enlarged (s > 1), sent as JPEG
    photos = [png_bytes(raw_a), cv2.imencode(".jpg", raw_b[:, :, ::-1])[1].tobytes()]
    photo_points = np.stack([lm_a, lm_b]).astype(np.float32)
    data = tmp_path / "inputs.npz"
    np.savez(data, images=images, points=points, photos=np.array(photos, dtype=object),
             photo_points=photo_points)
    script = tmp_path / "load.py"
    script.write_text(_SESSION_SCRIPT)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, str(script), export_dir, str(data),
                           str(tmp_path / "out.npz")], capture_output=True, text=True,
                          cwd=str(tmp_path), env={**env, "TF_CPP_MIN_LOG_LEVEL": "3"},
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["project_modules"] == []
    out = np.load(tmp_path / "out.npz", allow_pickle=True)

    # frontal_float: the session's output = the eager Keras call on numpy-built inputs.
    reference = keras_reference(tiny.generator, images, points)
    session_float = out["frontal_float/frontal_float"]
    assert np.abs(session_float - reference).max() <= 1e-5
    python_float = tiny.frontalizer.frontalize_float(images, points)
    assert np.abs(session_float - python_float).max() <= 1e-5
    # serving_default (uint8). Not always bit-identical: the TF1 session optimises the graph
    # differently from tf.function / eager (other op fusions), the float outputs differ by
    # ~1e-6, and a value that lands that close to a rounding boundary of the uint8 conversion
    # comes out one grey level apart (measured: 2 of 196,608 values).
    session_frontal = out["serving_default/frontal"]
    assert_uint8_close(session_frontal, tiny.frontalizer.frontalize(images, points))
    assert_uint8_close(session_frontal, to_uint8(tf.constant(reference)).numpy())
    # frontalize_image: the same PNGs as the Python path (up to the rounding flips above), and
    # its aligned crop is spec 1.2's.
    python = tiny.frontalizer.frontalize_photos(photos, photo_points)
    for i in range(2):
        for key in ("frontal_png_bytes", "aligned_png_bytes"):
            assert_uint8_close(decode_png(out[f"frontalize_image/{key}"][i]),
                               decode_png(python[key][i]))
    ref_a = al.align_face(raw_a, lm_a)
    np.testing.assert_allclose(out["frontalize_image/aligned_landmarks"][0], ref_a.landmarks,
                               atol=1e-3)
    aligned_a = decode_png(out["frontalize_image/aligned_png_bytes"][0]).astype(int)
    assert np.abs(aligned_a - ref_a.image).mean() < 1.0  # see faces/test_alignment_tf: ~0.44

    errors = report["errors"]
    assert "InvalidArgumentError" in errors["outside"] and "inside the 128 x 128" in errors[
        "outside"]
    assert "must be finite" in errors["nan"]
    assert "differ in size" in errors["batch"]
    assert errors["shape"] is not None and "shape" in errors["shape"]
    assert "Unknown image file format" in errors["bytes"]
    assert "lies outside its image" in errors["photo_outside"]


def test_mirror_contract(tiny_tpgan, sample_faces):
    """A face and its mirror image.

    serving_default: the mirrored face A' is flipped back inside the graph, so G sees exactly
    A's global image; only the patches differ (cut before mirroring, with `.5pt` windows one
    pixel right of the landmark, spec 1.4 / the training pipeline): frontal(A') =
    flip(G(training input of A')), checked exactly against numpy + Keras in the session test.
    Here: the frontal of A' is close to the mirror of A's frontal, much closer than to A's
    frontal itself. frontalize_image on a photo and its mirror: the aligned crops are mirror
    images up to the one-column offset of the crop centre (x = 64 of 0..127), and the mirrored
    photo is processed as a face looking left.
    """
    tiny = tiny_tpgan
    images, points = sample_faces
    out = tiny.frontalizer.frontalize_float(images[:2], points[:2]).astype(np.float64)
    to_mirror = np.abs(out[1] - out[0][:, ::-1]).mean()
    to_same = np.abs(out[1] - out[0]).mean()
    assert to_mirror < 0.5 * to_same, (to_mirror, to_same)

    raw, lm = photo(4, 35, size=(320, 240))
    mirrored_raw = raw[:, ::-1]
    mirrored_lm = mirror_landmarks(lm, raw.shape[1])
    res = tiny.frontalizer.frontalize_photos([png_bytes(raw), png_bytes(mirrored_raw)],
                                             np.stack([lm, mirrored_lm]))
    a, b = (decode_png(x).astype(int) for x in res["aligned_png_bytes"])
    # crop x of the mirror photo = 128 - crop x of the photo: b[:, c] = a[:, 128 - c].
    assert np.abs(b[:, 1:] - a[:, ::-1][:, :-1]).mean() < 1.0
    crop_pts = res["aligned_landmarks"]
    np.testing.assert_allclose(crop_pts[1][[1, 0, 2, 4, 3], 0], 128 - crop_pts[0][:, 0],
                               atol=1e-3)
    flags = landmarks_tf.faces_left(tf.constant(crop_pts)).numpy()
    np.testing.assert_array_equal(flags, [False, True])
