"""The pair Example layout (tpgan_tf/data/pair_records.py): make_example / feature_spec round
trip and decode_faces."""
import cv2
import numpy as np
import tensorflow as tf

from tpgan_tf.data import pair_records


def _record():
    rng = np.random.default_rng(0)
    record = {"camera": "05_0", "subject": 7, "session": 2, "recording": 1, "illumination": 9,
              "yaw": -15}
    for k, side in enumerate(pair_records.SIDES):
        image = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
        record[f"{side}/png"] = cv2.imencode(".png", image[:, :, ::-1])[1].tobytes()
        record[f"{side}/image"] = image  # not serialised: the expected decode
        record[f"{side}/landmarks"] = rng.uniform(0, 127, (5, 2)).astype(np.float32)
        record[f"{side}/windows"] = rng.integers(-5, 120, (4, 2))
        record[f"{side}/padded"] = np.array([k, 0, 1, 0])
        record[f"{side}/path"] = f"data/{side}.png"
    return record


def test_make_example_round_trip():
    record = _record()
    ex = tf.io.parse_single_example(pair_records.make_example(record), pair_records.feature_spec())
    assert ex["camera"].numpy() == b"05_0"
    for name in pair_records.INT_FIELDS:
        assert int(ex[name]) == record[name], name
    for side in pair_records.SIDES:
        np.testing.assert_array_equal(tf.io.decode_png(ex[f"{side}/png"]).numpy(),
                                      record[f"{side}/image"])
        np.testing.assert_array_equal(ex[f"{side}/landmarks"].numpy(),
                                      record[f"{side}/landmarks"].reshape(10))
        np.testing.assert_array_equal(ex[f"{side}/windows"].numpy(),
                                      record[f"{side}/windows"].reshape(8))
        np.testing.assert_array_equal(ex[f"{side}/padded"].numpy(), record[f"{side}/padded"])
        assert ex[f"{side}/path"].numpy().decode() == record[f"{side}/path"]


def test_decode_faces():
    record = _record()
    faces = pair_records.decode_faces(tf.constant(pair_records.make_example(record)))
    assert sorted(faces) == ["frontal", "profile", "subject", "yaw"]
    for side in pair_records.SIDES:
        assert faces[side].dtype == tf.uint8
        np.testing.assert_array_equal(faces[side].numpy(), record[f"{side}/image"])
    assert (int(faces["subject"]), int(faces["yaw"])) == (7, -15)
