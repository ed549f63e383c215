"""Shared test configuration, fixtures and helpers.

Expensive things are built once per test session and shared (session-scoped fixtures):
  * `tiny_tpgan`: a randomly initialised (seeded) `tiny` TP-GAN task built for inference, its
    generator and a Frontalizer; `tiny_export`: that task exported once
    (`<workdir>/export/tpgan/1`); `tiny_saved_model`: tf.saved_model.load of the export;
  * `tiny_training`: a tiny TP-GAN training run (task with Light-CNN, input iterator,
    checkpoint saver); building and tracing its steps takes ~1 min on 2 CPU cores. Tests that
    share it must not depend on the order they run in: each one either restores the run's
    initial state (`TinyTraining.reset()`) or asserts relative to the state it finds;
  * `damaged_multipie` / `pair_records`: a small synthetic Multi-PIE tree with one of each kind
    of bad input, and the pair records built from it once.
Plain helpers for synthetic photos (`photo`, `png_bytes`, `decode_png`, `assert_uint8_close`)
are module-level functions here; import them with `from tests.conftest import ...`.
"""
from __future__ import annotations

import dataclasses
import os
import shutil

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---------------------------------------------------------------- photo helpers

def photo(subject: int, yaw: float, size=(320, 240)):
    """A synthetic raw photo (uint8 RGB) and its exact landmarks (0-based, float64)."""
    from data_prep import synthetic as sy

    return sy.render_view(sy.identity_for(11, subject), yaw, image_size=size)


def png_bytes(image_rgb) -> bytes:
    import cv2

    return cv2.imencode(".png", np.ascontiguousarray(image_rgb[:, :, ::-1]))[1].tobytes()


def decode_png(data: bytes) -> np.ndarray:
    import cv2

    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1]


def assert_uint8_close(a, b):
    """uint8 pictures equal up to one grey level on fewer than 0.1 % of the values."""
    diff = np.abs(np.asarray(a, np.int32) - np.asarray(b, np.int32))
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3, (int(diff.max()), int((diff > 0).sum()))


# ---------------------------------------------------------------- the tiny TP-GAN for inference

@dataclasses.dataclass
class TinyTpgan:
    task: object  # TpganTask built for inference
    generator: object
    config: object
    frontalizer: object
    workdir: str


@pytest.fixture(scope="session")
def tiny_tpgan(tmp_path_factory) -> TinyTpgan:
    """A randomly initialised (seed 2017) `tiny` TP-GAN and its Frontalizer, built once."""
    import keras

    from tpgan_tf.core.runner import load_trained

    keras.utils.set_random_seed(2017)
    task, cfg, _ = load_trained(preset="tiny", task="tpgan")
    return TinyTpgan(task, task.generator, cfg, task.frontalizer(),
                     str(tmp_path_factory.mktemp("tiny_tpgan")))


@pytest.fixture(scope="session")
def tiny_export(tiny_tpgan) -> str:
    """The tiny model exported once through serving.export.export_task:
    `<workdir>/export/tpgan/1`."""
    from tpgan_tf.serving.export import export_task

    return export_task(tiny_tpgan.task, os.path.join(tiny_tpgan.workdir, "export"))


@pytest.fixture(scope="session")
def tiny_saved_model(tiny_export):
    """tf.saved_model.load of the shared export (kept alive for the session)."""
    import tensorflow as tf

    return tf.saved_model.load(tiny_export)


# ---------------------------------------------------------------- the tiny TP-GAN in training

class TinyTraining:
    """The shared tiny run: task (width 1/16, batch 2, deterministic ops), its input iterator,
    checkpoint saver and model_dir, and a checkpoint of its initial state (iteration 0)."""

    def __init__(self, tmp):
        from tests.batch_contract import random_dataset
        from tpgan_tf.core import checkpointing, distribution
        from tpgan_tf.core.config import apply_overrides, get_config
        from tpgan_tf.identity.lightcnn import build_lightcnn
        from tpgan_tf.identity.weights import save_h5_weights
        from tpgan_tf.models.tpgan.task import TpganTask

        tiny = get_config("tiny", "tpgan")
        distribution.enable_determinism(tiny.train.seed)
        self.lightcnn_path = str(tmp / "lightcnn_tiny.h5")
        save_h5_weights(build_lightcnn(tiny.model.lightcnn_width), self.lightcnn_path)
        self.cfg = apply_overrides(tiny, [f"weights.lightcnn={self.lightcnn_path}"])
        self.task = TpganTask(self.cfg).build()
        self.iterator = iter(random_dataset(8, self.cfg.train.batch_size))
        self.model_dir = str(tmp / "run")
        self.saver = self.new_saver()
        # Everything a checkpoint holds (weights, slots, optimiser steps, z / dropout random
        # state, data position, iteration), as it is before the first iteration. Its own
        # Checkpoint object, only ever written and read: one that has saved through a
        # CheckpointManager also tracks a save_counter, which this file does not hold.
        self._initial = checkpointing.make_checkpoint(self.task, self.iterator)
        self._initial_path = self._initial.write(str(tmp / "initial" / "ckpt"))

    def new_saver(self):
        from tpgan_tf.core import checkpointing

        ckpt = checkpointing.make_checkpoint(self.task, self.iterator)
        return checkpointing.CheckpointSaver(ckpt, self.model_dir,
                                             self.cfg.train.keep_checkpoints)

    def reset(self) -> None:
        """Back to the state before the first iteration (for tests that need a fresh run)."""
        self._initial.read(self._initial_path).assert_existing_objects_matched()

    def iterate(self, n):
        values = []
        for _ in range(n):
            v, _ = self.task.iterate(next(self.iterator))
            values.append({k: float(x) for k, x in v.items()})
        return values


@pytest.fixture(scope="session")
def tiny_training(tmp_path_factory) -> TinyTraining:
    return TinyTraining(tmp_path_factory.mktemp("training"))


# ---------------------------------------------------------------- small pair records

SUBJECTS = 3  # subject 3 is the test split (test_subjects_from=3)
ILLUMINATIONS = (7, 9)
FRONTAL_REL = "data/session01/multiview/{s:03d}/01/05_1/{s:03d}_01_01_051_{i:02d}.png"
PROFILE_REL = "data/session01/multiview/{s:03d}/01/{c}/{s:03d}_01_01_{code}_{i:02d}.png"


def profile_rel(subject, camera, illum):
    return PROFILE_REL.format(s=subject, c=camera, code=camera.replace("_", ""), i=illum)


@pytest.fixture(scope="session")
def damaged_multipie(tmp_path_factory):
    """A synthetic Multi-PIE tree (3 subjects, 13 cameras, illuminations 7 and 9) with one of
    each kind of bad input. Returns (root, {kind: root-relative path})."""
    from data_prep import synthetic
    from tpgan_tf.faces import landmarks

    root = str(tmp_path_factory.mktemp("multipie"))
    synthetic.generate(root, SUBJECTS, illuminations=ILLUMINATIONS, image_size=(320, 240),
                       seed=5, workers=1, progress=False)
    bad = {
        "corrupt": profile_rel(1, "04_1", 7),
        "truncated": profile_rel(1, "19_0", 7),
        "zero_bytes": profile_rel(2, "05_0", 7),
        "missing_frontal": profile_rel(2, "13_0", 9),
        "out_of_range": profile_rel(1, "08_0", 9),
        "unknown_camera": "data/session01/multiview/001/01/07_1/001_01_01_071_07.png",
        "wrong_folder": "data/session01/multiview/002/01/05_0/001_01_01_050_07.png",
    }
    full = lambda rel: os.path.join(root, *rel.split("/"))  # noqa: E731
    with open(full(bad["corrupt"]), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + os.urandom(2000))
    data = open(full(bad["truncated"]), "rb").read()
    with open(full(bad["truncated"]), "wb") as f:
        f.write(data[: len(data) // 3])
    open(full(bad["zero_bytes"]), "wb").close()
    os.remove(full(FRONTAL_REL.format(s=2, i=9)))  # every subject-2 illum-9 profile loses it
    csv = os.path.join(root, "landmarks.csv")
    points = landmarks.read_landmark_csv(csv)
    points[bad["out_of_range"]] = points[bad["out_of_range"]] + [5000.0, 0.0]
    landmarks.write_landmark_csv(csv, points)
    for rel in (bad["unknown_camera"], bad["wrong_folder"]):
        os.makedirs(os.path.dirname(full(rel)), exist_ok=True)
        shutil.copy(full(FRONTAL_REL.format(s=1, i=7)), full(rel))
    return root, bad


@pytest.fixture(scope="session")
def pair_records(damaged_multipie, tmp_path_factory):
    """data_prep.build_tfrecords.build of the damaged tree (2 shards per split).
    Returns (output dir, manifest, Multi-PIE root, bad inputs)."""
    from data_prep import build_tfrecords

    root, bad = damaged_multipie
    out = str(tmp_path_factory.mktemp("records"))
    manifest = build_tfrecords.build(out, multipie_root=root, test_subjects_from=3,
                                     num_shards=2, workers=2, show_progress=False)
    return out, manifest, root, bad


# ---------------------------------------------------------------- aligned faces

@pytest.fixture(scope="session")
def sample_faces():
    """Aligned faces (uint8 [4, 128, 128, 3]) and their crop landmarks (float32 [4, 5, 2]):
    A (looks right), A' (its exact mirror), B (looks left), C (frontal)."""
    from tpgan_tf.faces.alignment import align_face
    from tpgan_tf.faces.landmarks import mirror_landmarks

    a = align_face(*photo(1, 30))
    b = align_face(*photo(2, -45))
    c = align_face(*photo(3, 0))
    a_mirror = mirror_landmarks(a.landmarks, 128)
    images = np.stack([a.image, a.image[:, ::-1], b.image, c.image])
    points = np.stack([a.landmarks, a_mirror, b.landmarks, c.landmarks]).astype(np.float32)
    return images, points


# ---------------------------------------------------------------- serving-client inputs

@pytest.fixture(scope="session")
def tiny_signature_defs(tiny_export) -> dict:
    """{signature: {"inputs"/"outputs": {name: (dtype name, shape with -1 for None)}}} of the
    shared export."""
    import tensorflow as tf
    from tensorflow.core.protobuf import saved_model_pb2

    model = saved_model_pb2.SavedModel()
    with open(os.path.join(tiny_export, "saved_model.pb"), "rb") as f:
        model.ParseFromString(f.read())
    out = {}
    for name, sig in model.meta_graphs[0].signature_def.items():
        if name.startswith("__"):  # __saved_model_init_op
            continue
        out[name] = {side: {k: (tf.dtypes.as_dtype(v.dtype).name,
                                [d.size for d in v.tensor_shape.dim])
                            for k, v in getattr(sig, side).items()}
                     for side in ("inputs", "outputs")}
    return out


@pytest.fixture(scope="session")
def client_files(tmp_path_factory):
    """Two photos with a landmark CSV next to them, and an aligned face with its points (the
    serving-client tests)."""
    from tpgan_tf.faces import alignment as al
    from tpgan_tf.faces.landmarks import write_landmark_csv

    root = tmp_path_factory.mktemp("client")
    table = {}
    for i, (yaw, size) in enumerate([(30, (320, 240)), (-40, (200, 150))]):
        raw, lm = photo(20 + i, yaw, size)
        name = f"photos/p{i}.png"
        os.makedirs(root / "photos", exist_ok=True)
        (root / name).write_bytes(png_bytes(raw))
        table[name] = lm
    write_landmark_csv(str(root / "landmarks.csv"), table)
    face = al.align_face(*photo(22, 15))
    (root / "aligned.png").write_bytes(png_bytes(face.image))
    return {"root": root, "photos": [str(root / n) for n in sorted(table)],
            "csv": str(root / "landmarks.csv"), "points": [table[n] for n in sorted(table)],
            "aligned": str(root / "aligned.png"), "aligned_points": face.landmarks,
            "aligned_image": face.image}


@pytest.fixture(scope="session")
def fsrnet_records(tmp_path_factory) -> str:
    """Face records of the tiny FSRNet preset's kind: 6 training and 3 test random faces
    (68 landmarks; tests/models/fsrnet/conftest.write_face_records)."""
    from tests.models.fsrnet.conftest import write_face_records
    from tpgan_tf.core.config import get_config

    cfg = get_config("tiny", "fsrnet")
    out = str(tmp_path_factory.mktemp("fsrnet_records"))
    write_face_records(os.path.join(out, "train-00000-of-00001.tfrecord"), cfg, 6, seed=0)
    write_face_records(os.path.join(out, "test-00000-of-00001.tfrecord"), cfg, 3, seed=1)
    return out
