"""FSRNet's input pipeline: face records (tpgan_tf/data/face_records.py) -> training batches.

Every batch is a dict (B = batch size, S = model.image_size = 128, s = S / degradation.scale):
    x          [B, S, S, 3] float32 in [0, 1]: the network input, the spec 1 degradation of hr
               (antialiased bicubic down to s x s, clipped, bicubic back up to S, clipped;
               degradation.degrade), then optionally a JPEG round trip (degradation.jpeg_lr)
    hr         [B, S, S, 3] float32 in [0, 1]: the target y, uint8 / 255 (Torch's image.load,
               spec 1), optionally JPEG'd first (degradation.jpeg_hr, as the official test files)
    lr         [B, s, s, 3] float32 in [0, 1]: the small face (for pictures and the serving test)
    priors     [B, S/2, S/2, K] float32: the prior head's target p_gt (fsrnet spec 5): heatmaps
               of the landmarks (sigma priors.heatmap_sigma on the S/2 grid), then the one-hot
               parsing maps of the label map remapped to priors.parsing_set, area-downsampled
    landmarks  [B, N, 2] float32: 0-based pixel-centre coordinates of the HR crop
    parsing    [B, S, S] uint8: the stored label map (Helen-11 ids)
with `with_metadata=True` also name, source string [B]. Everything after the PNG decoding runs
once per batch. With train.flip each training face is mirrored with probability 1/2 before
batching (flip_face; stateless draws from the seed and the face's position in the stream, so
a deterministic run and its resume see the same flips, and the input position can be
checkpointed with or without a seed).
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from tpgan_tf.data import pipeline
from tpgan_tf.data.face_records import parse_face
from tpgan_tf.models.fsrnet import degradation, priors
from tpgan_tf.models.fsrnet.prior_sets import LABEL_MIRRORS, LANDMARK_MIRRORS

IMAGE_KEYS = ("x", "hr", "lr")


def to_training_batch(batch: dict, cfg) -> dict:
    """A batch of parse_face dicts (uint8 hr [B, S, S, 3], uint8 parsing [B, S, S], landmarks
    [B, N, 2]) -> the training batch of the module doc, for config `cfg` (FsrnetConfig)."""
    dc, pc = cfg.degradation, cfg.priors
    hr = tf.cast(batch["hr"], tf.float32) / 255.0
    if dc.jpeg_hr:
        hr = degradation.jpeg_roundtrip(hr, dc.jpeg_quality)
    size = int(hr.shape[1])
    lr = tf.clip_by_value(degradation.bicubic_downsample(hr, dc.scale), 0.0, 1.0)
    x = tf.clip_by_value(degradation.bicubic_upsample(lr, (size, size)), 0.0, 1.0)
    if dc.jpeg_lr:
        x = degradation.jpeg_roundtrip(x, dc.jpeg_quality)
    landmarks = tf.cast(batch["landmarks"], tf.float32)
    targets = priors.prior_maps(landmarks, batch["parsing"], pc.prior_set(), size,
                                pc.heatmap_sigma)
    out = {"x": x, "hr": hr, "lr": lr, "priors": targets, "landmarks": landmarks,
           "parsing": batch["parsing"]}
    for key in ("name", "source"):
        if key in batch:
            out[key] = batch[key]
    return out


def flip_face(ex: dict, landmark_mirror, label_mirror) -> dict:
    """One parse_face dict mirrored left-right: hr [S, S, 3] and parsing [S, S] columns
    reversed, parsing labels swapped by label_mirror (LABEL_MIRRORS), landmarks [N, 2] (x, y)
    moved to x' = S - 1 - x (pixel centres) and reordered by landmark_mirror (LANDMARK_MIRRORS:
    point i of the result is point landmark_mirror[i] of the input). Other keys unchanged."""
    size = tf.cast(tf.shape(ex["hr"])[1], tf.float32)
    points = tf.cast(ex["landmarks"], tf.float32)
    points = tf.stack([size - 1.0 - points[:, 0], points[:, 1]], axis=-1)
    labels = tf.gather(tf.constant(label_mirror, ex["parsing"].dtype),
                       tf.cast(ex["parsing"][:, ::-1], tf.int32))
    return {**ex, "hr": ex["hr"][:, ::-1], "parsing": labels,
            "landmarks": tf.gather(points, tf.constant(landmark_mirror, tf.int32))}


def _random_flip(cfg, seed: int | None, stream: int):
    """(index, face) -> the face, mirrored with probability 1/2: stateless draws from the
    seed and the face's index, from a seed picked here when none is given (a stateful random
    op in the pipeline would make the iterator impossible to checkpoint)."""
    landmark_mirror = LANDMARK_MIRRORS[cfg.priors.landmark_scheme]
    label_mirror = LABEL_MIRRORS[cfg.priors.label_map_set]
    if seed is None:
        seed = int(np.random.default_rng().integers(2 ** 31 - 1))

    def fn(index, ex):
        draw = tf.random.stateless_uniform([], seed=tf.stack(
            [tf.constant(seed + stream, tf.int64), index]))
        return tf.cond(draw < 0.5, lambda: flip_face(ex, landmark_mirror, label_mirror),
                       lambda: ex)
    return fn


def _parse(cfg, with_metadata: bool):
    def parse(serialized):
        ex = parse_face(serialized, cfg.priors.num_landmarks, cfg.model.image_size)
        keep = ("hr", "parsing", "landmarks") + (("name", "source") if with_metadata else ())
        return {k: ex[k] for k in keep}
    return parse


def check_landmark_count(file_pattern: str, cfg) -> None:
    """ValueError, before any training, when the records of `file_pattern` hold another number
    of landmarks than the config's prior head predicts (priors.num_landmarks); the message says
    which overrides fit the records."""
    from tpgan_tf.models.fsrnet.eval_data import records_landmarks

    count, scheme = records_landmarks(file_pattern)
    pc = cfg.priors
    if count != pc.num_landmarks:
        raise ValueError(
            f"{file_pattern}: the records hold {count} landmarks per face ({scheme}), but config "
            f"{cfg.name!r} predicts priors.num_landmarks={pc.num_landmarks} "
            f"({pc.landmark_scheme}); train with --override=priors.num_landmarks={count} "
            f"--override=priors.landmark_scheme={scheme}, or build records with "
            f"{pc.num_landmarks} points")


def make_dataset(file_pattern: str, cfg, batch_size: int, *, shuffle: bool = True,
                 repeat: bool = True, deterministic: bool = False, seed: int | None = None,
                 shuffle_buffer: int = 1024, cache: bool = True,
                 input_context: tf.distribute.InputContext | None = None) -> tf.data.Dataset:
    """Training batches (module doc) from the shards matching `file_pattern`.

    cache=True keeps the decoded uint8 faces in memory after the first pass (~66 kB each);
    `deterministic=True` with a seed fixes the order on every run (exact resume).
    input_context: this replica's share under tf.distribute (data/pipeline.read_records)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    autotune = tf.data.AUTOTUNE
    ds = pipeline.read_records(file_pattern, shuffle=shuffle, deterministic=deterministic,
                               seed=seed, input_context=input_context)
    ds = ds.map(_parse(cfg, False), num_parallel_calls=autotune, deterministic=deterministic)
    ds = pipeline.cache_shuffle_repeat(ds, cache=cache, shuffle=shuffle,
                                       shuffle_buffer=shuffle_buffer, seed=seed, repeat=repeat)
    if cfg.train.flip:
        stream = input_context.input_pipeline_id if input_context is not None else 0
        ds = ds.enumerate().map(_random_flip(cfg, seed, stream), num_parallel_calls=autotune,
                                deterministic=deterministic)
    ds = ds.batch(batch_size, drop_remainder=True)
    ds = ds.map(lambda b: to_training_batch(b, cfg), num_parallel_calls=autotune,
                deterministic=deterministic)
    return ds.prefetch(autotune).with_options(pipeline.options(deterministic))


def eval_dataset(file_pattern: str, cfg, batch_size: int, max_examples: int = 0
                 ) -> tf.data.Dataset:
    """Test batches in a fixed order (sorted shards one after the other) with name and source;
    the last batch may be smaller. max_examples > 0 keeps the first faces."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    ds = tf.data.TFRecordDataset(pipeline.list_shards(file_pattern))
    if max_examples > 0:
        ds = ds.take(max_examples)
    ds = ds.map(_parse(cfg, True), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.batch(batch_size).map(lambda b: to_training_batch(b, cfg),
                                  num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)


def random_examples(n: int, cfg, seed: int = 0) -> dict:
    """n random faces in the parse_face layout (numpy: uint8 hr and parsing, landmarks inside
    the crop), for tests and benchmarks that need no records."""
    rng = np.random.default_rng(seed)
    size = cfg.model.image_size
    return {"hr": rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8),
            "parsing": rng.integers(0, 11, (n, size, size), dtype=np.uint8),
            "landmarks": rng.uniform(0, size - 1, (n, cfg.priors.num_landmarks, 2)
                                     ).astype(np.float32)}


def random_batch(n: int, cfg, seed: int = 0) -> dict:
    """A training batch (module doc) of n random faces."""
    return to_training_batch({k: tf.constant(v) for k, v in random_examples(n, cfg, seed).items()},
                             cfg)
