"""Frontalization at inference: the training input built in-graph, G, and the picture out.

One implementation serves three callers: Python inference (`Frontalizer`), the exported
SavedModel signatures (`Frontalizer` is TP-GAN's serving module, tpgan_tf/serving/module.py:
tpgan_tf/serving/export.py exports its traced methods) and the photo tools.

From an aligned face to its frontal (`Frontalizer.frontalize_aligned`), per example:
  1. Facing side (spec 6.4 [INFER]): the face looks image-left (negative yaw) when the nose tip
     is left of the eye midpoint, x2 < (x0 + x1) / 2. Ties (a frontal face) are not mirrored.
  2. Patch windows of spec 1.4 from the 5 landmarks with the pose-independent nose rule
     (o = 20, spec 1.4: for cameras we do not know), in the `.5pt` index convention of
     tpgan_tf/faces/parts.py: index = round_half_away(0-based landmark) + 1. Zero fill outside.
  3. Mirror to one side (spec 1.1, 1.4) exactly as the training pipeline
     (tpgan_tf/models/tpgan/inputs.py) does, with the same code (tpgan_tf/faces/parts_tf.py):
     patches are cut from the UNmirrored face first; a face looking left is then flipped,
     every patch flipped and the two eye patches swapped.
  4. uint8 / 256 -> [0, 1) (spec 1.1), G with training=False (its BN layers follow their
     bn_mode: "batch_stats", the original's, normalises with the request batch's statistics)
     and a deterministic z = 0, the mean of the spec 2.5 noise N(0, 0.02^2).
  5. A mirrored face's frontal is flipped back, so the output looks the way the input did
     (a frontal has no facing side; flipping back keeps e.g. a parting on its side).
  6. To uint8: "minmax" (default, faithful to the original test mode, spec 5: scipy.misc.imsave
     rescales each float image by its own min and max over all pixels and channels to 0..255,
     rounding half up) or "clip": clip(round(x * 256), 0, 255), the inverse of step 4.

Mirror contract. Because patches are cut before mirroring (step 3), a face and its exact
mirror image do NOT give exactly mirrored frontals: G sees exactly the same global image, but
the `.5pt` windows sit right of the landmark (index = round + 1) and the o = 20 nose window is
not centred on the tip, so after the flip the mirrored face's patches are shifted against the
other face's (eyes by 1 column, the nose by 3, the mouth by 0 or 1). This is what training fed
the network for negative yaws; tests/models/tpgan/test_export.py measures the effect.

From a photo (`Frontalizer.frontalize_image`): decode, check the landmarks and align in the
graph with tpgan_tf/faces/alignment_tf.py (the TF twin of the spec 1.2 alignment of the data
preparation), then the steps above; PNG bytes out.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from tpgan_tf.faces import alignment_tf, landmarks_tf, parts_tf
from tpgan_tf.faces.parts import IMAGE_SIZE, POSE_INDEPENDENT_NOSE_OFFSET
from tpgan_tf.models.tpgan.generator import Generator
from tpgan_tf.serving.module import ServingModule

OUTPUT_RANGES = ("minmax", "clip")


def generator_inputs(images: tf.Tensor, landmarks: tf.Tensor,
                     nose_offset: int = POSE_INDEPENDENT_NOSE_OFFSET) -> tuple[dict, tf.Tensor]:
    """Steps 1-4 of the module doc without z: the training input of spec 1.1 / 1.4.

    images uint8 [B, 128, 128, 3] aligned faces; landmarks float32 [B, 5, 2] in their 0-based
    crop coordinates. Returns ({image, eye_left, eye_right, nose, mouth} float32 in [0, 1),
    mirrored bool [B]).
    """
    images = tf.convert_to_tensor(images)
    landmarks = tf.cast(landmarks, tf.float32)
    mirrored = landmarks_tf.faces_left(landmarks)
    # Spec 1.4: patches come from the unmirrored face, then are mirrored with it.
    patches = parts_tf.cut_patches(images, parts_tf.part_windows(landmarks, nose_offset))
    image, patches = parts_tf.mirror_where(mirrored, images, patches)
    out = {"image": image, **patches}
    # Spec 1.1: uint8 / 256 (not 255).
    return {k: tf.cast(v, tf.float32) / 256.0 for k, v in out.items()}, mirrored


def to_uint8(images: tf.Tensor, output_range: str = "minmax") -> tf.Tensor:
    """Float images [B, H, W, C] -> uint8 (see step 6 of the module doc)."""
    if output_range == "minmax":
        # scipy.misc.bytescale, used by imsave for float arrays: whole-image min and max,
        # a flat image (max == min) keeps scale 255 / 1; then clip and round half up.
        low = tf.reduce_min(images, axis=[1, 2, 3], keepdims=True)
        span = tf.reduce_max(images, axis=[1, 2, 3], keepdims=True) - low
        span = tf.where(span == 0, tf.ones_like(span), span)
        scaled = (images - low) * (255.0 / span)
        return tf.cast(tf.floor(tf.clip_by_value(scaled, 0.0, 255.0) + 0.5), tf.uint8)
    if output_range == "clip":
        return tf.cast(tf.clip_by_value(tf.round(images * 256.0), 0.0, 255.0), tf.uint8)
    raise ValueError(f"output_range must be one of {OUTPUT_RANGES}, got {output_range!r}")




class Frontalizer(ServingModule):
    """G plus the in-graph pre- and post-processing of the module doc.

    Its `frontalize_aligned`, `frontal_float` and `frontalize_image` methods are plain Python
    functions of tensors; `traced(name)` gives their tf.functions, which are both the SavedModel
    endpoints (tpgan_tf/serving/export.py) and what the numpy API (`frontalize`, `frontalize_float`,
    `frontalize_photos`) runs. Nothing here is random: z = 0.
    """

    SIGNATURE_INPUTS = {
        "serving_default": {"image": ("uint8", (128, 128, 3)), "landmarks": ("float32", (5, 2))},
        "frontal_float": {"image": ("uint8", (128, 128, 3)), "landmarks": ("float32", (5, 2))},
        "frontalize_image": {"image_bytes": ("string", ()), "landmarks": ("float32", (5, 2))},
    }
    SIGNATURE_OUTPUTS = {"serving_default": ["frontal"], "frontal_float": ["frontal_float"]}

    def __init__(self, generator: Generator, output_range: str = "minmax",
                 nose_offset: int = POSE_INDEPENDENT_NOSE_OFFSET):
        if output_range not in OUTPUT_RANGES:
            raise ValueError(f"output_range must be one of {OUTPUT_RANGES}, got {output_range!r}")
        self.generator = generator
        self.output_range = output_range
        self.nose_offset = int(nose_offset)
        self._generate_fn = None

    @classmethod
    def from_networks(cls, networks, config) -> "Frontalizer":
        """The Frontalizer of a TP-GAN generator with the config's export.output_range."""
        return cls(networks["generator"], output_range=config.export.output_range)

    @classmethod
    def examples(cls, config, batch_size: int, seed: int = 0) -> dict:
        """Random faces with the template landmarks (spec 1.2) in crop coordinates, and the
        same faces as PNG photos for frontalize_image."""
        import cv2

        from tpgan_tf.faces.alignment import template_landmarks

        rng = np.random.default_rng(seed)
        images = rng.integers(0, 256, (batch_size, 128, 128, 3), dtype=np.uint8)
        points = np.repeat(template_landmarks()[None].astype(np.float32), batch_size, axis=0)
        photos = np.array([cv2.imencode(".png", im)[1].tobytes() for im in images],
                          dtype=object)
        aligned = {"image": images, "landmarks": points}
        return {"serving_default": aligned, "frontal_float": aligned,
                "frontalize_image": {"image_bytes": photos, "landmarks": points}}

    # -- signatures (shape and dtype of each input; names are the SavedModel's)
    @staticmethod
    def aligned_signature() -> list:
        return [tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE, 3], tf.uint8, name="image"),
                tf.TensorSpec([None, 5, 2], tf.float32, name="landmarks")]

    @staticmethod
    def encoded_signature() -> list:
        return [tf.TensorSpec([None], tf.string, name="image_bytes"),
                tf.TensorSpec([None, 5, 2], tf.float32, name="landmarks")]

    # -- the core
    def generate(self, images: tf.Tensor, landmarks: tf.Tensor) -> tf.Tensor:
        """Aligned uint8 faces [B, 128, 128, 3] + crop landmarks [B, 5, 2] -> G's img128 as
        float32 [B, 128, 128, 3] (tanh range), un-mirrored. No input checks.

        One tf.function, traced once: every signature calls it, so a SavedModel holds the
        generator graph once (not once per signature) and exports trace G only once.
        """
        if self._generate_fn is None:
            self._generate_fn = tf.function(self._generate, autograph=False,
                                            input_signature=self.aligned_signature())
        return self._generate_fn(images, landmarks)

    def _generate(self, images: tf.Tensor, landmarks: tf.Tensor) -> tf.Tensor:
        inputs, mirrored = generator_inputs(images, landmarks, self.nose_offset)
        batch = tf.shape(inputs["image"])[0]
        # Deterministic z: 0, the mean of spec 2.5's N(0, 0.02^2).
        inputs["z"] = tf.zeros([batch, self.generator.z_dim], tf.float32)
        frontal = self.generator(inputs, training=False)["img128"]
        return landmarks_tf.where_batch(mirrored, tf.reverse(frontal, axis=[2]), frontal)

    def _checked_aligned(self, image, landmarks):
        image = tf.convert_to_tensor(image, tf.uint8)
        landmarks = tf.convert_to_tensor(landmarks, tf.float32)
        with tf.control_dependencies(alignment_tf.batch_checks(image, landmarks, "landmarks")):
            # After the finiteness check, so that NaNs are reported as such.
            inside = tf.debugging.Assert(
                alignment_tf.points_inside(landmarks, IMAGE_SIZE, IMAGE_SIZE),
                ["landmarks: every point must lie inside the 128 x 128 aligned crop "
                 "(-0.5 <= x, y <= 127.5, 0-based crop coordinates); got", landmarks],
                summarize=50)
        with tf.control_dependencies([inside]):
            return tf.identity(image), tf.identity(landmarks)

    def frontalize_aligned(self, image, landmarks) -> dict:
        """`serving_default`: image uint8 [B,128,128,3], landmarks float32 [B,5,2] (0-based crop
        coordinates) -> {"frontal": uint8 [B,128,128,3]}."""
        image, landmarks = self._checked_aligned(image, landmarks)
        return {"frontal": to_uint8(self.generate(image, landmarks), self.output_range)}

    def frontal_float(self, image, landmarks) -> dict:
        """Same inputs -> {"frontal_float": G's float32 output, un-mirrored} (for evaluation
        and for checking an export against the Keras model)."""
        image, landmarks = self._checked_aligned(image, landmarks)
        return {"frontal_float": self.generate(image, landmarks)}

    def frontalize_image(self, image_bytes, landmarks) -> dict:
        """`frontalize_image`: photos string [B] (JPEG, PNG, ... any size) + their landmarks
        float32 [B, 5, 2] (0-based pixel coordinates of each photo) -> {"frontal_png_bytes",
        "aligned_png_bytes": string [B] PNG bytes, "aligned_landmarks": float32 [B, 5, 2]}.

        The `_bytes` suffix matters: TF Serving's REST API base64-encodes a string output as
        {"b64": ...} only when its name ends in `_bytes`; other strings go out as raw JSON
        strings, which PNG bytes (not UTF-8) would corrupt."""
        aligned, points = alignment_tf.align_photos(image_bytes, landmarks, "frontalize_image")
        frontal = to_uint8(self.generate(aligned, points), self.output_range)
        encode = lambda batch: tf.map_fn(  # noqa: E731
            tf.io.encode_png, batch, fn_output_signature=tf.TensorSpec([], tf.string))
        return {"frontal_png_bytes": encode(frontal), "aligned_png_bytes": encode(aligned),
                "aligned_landmarks": points}

    # -- traced functions: the SavedModel endpoints and the Python API below run these
    ENDPOINTS = {"frontalize_aligned": "aligned", "frontal_float": "aligned",
                 "frontalize_image": "encoded"}

    def spec(self, name: str) -> list:
        """The input signature of endpoint method `name`."""
        return (self.aligned_signature() if self.ENDPOINTS[name] == "aligned"
                else self.encoded_signature())

    # Signature name -> the method it runs (serving_default first: ExportArchive's alias rule).
    SIGNATURES = {"serving_default": "frontalize_aligned", "frontalize_image": "frontalize_image",
                  "frontal_float": "frontal_float"}

    def export_info(self) -> dict:
        """The conversions of the signatures and the alignment their aligned inputs follow
        (what a client needs to send aligned faces, tpgan_tf/photos)."""
        from tpgan_tf.faces import alignment

        bn_mode = self.generator.norm.get("bn_mode", "batch_stats")
        return {"output_range": self.output_range, "nose_offset": self.nose_offset,
                "z": "zeros (the mean of spec 2.5's N(0, 0.02^2))", "bn_mode": bn_mode,
                "alignment": {"rule": "tpgan spec 1.2", "crop_size": alignment.CROP_SIZE,
                              "ec_y": alignment.EC_Y, "ec_mc_y": alignment.EC_MC_Y,
                              "template_landmarks":
                                  alignment.template_landmarks().round(2).tolist()}}

    # -- Python API (numpy in, numpy out; the same traced graphs as the SavedModel)
    def frontalize(self, images, landmarks) -> np.ndarray:
        """uint8 [B,128,128,3] aligned faces + [B,5,2] crop landmarks -> uint8 frontals."""
        out = self.traced("frontalize_aligned")(*_aligned_args(images, landmarks))
        return out["frontal"].numpy()

    def frontalize_float(self, images, landmarks) -> np.ndarray:
        """As `frontalize`, but G's float32 output (no uint8 conversion)."""
        out = self.traced("frontal_float")(*_aligned_args(images, landmarks))
        return out["frontal_float"].numpy()

    def frontalize_photos(self, image_bytes, landmarks) -> dict:
        """Encoded photos (a list of bytes) + raw landmarks [B,5,2] -> {"frontal_png_bytes",
        "aligned_png_bytes": lists of PNG bytes, "aligned_landmarks": float32 [B,5,2]}."""
        out = self.traced("frontalize_image")(
            tf.constant(list(image_bytes), tf.string),
            tf.constant(np.asarray(landmarks, np.float32).reshape(-1, 5, 2)))
        return {"frontal_png_bytes": list(out["frontal_png_bytes"].numpy()),
                "aligned_png_bytes": list(out["aligned_png_bytes"].numpy()),
                "aligned_landmarks": out["aligned_landmarks"].numpy()}


def _aligned_args(images, landmarks) -> tuple[tf.Tensor, tf.Tensor]:
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(f"images must be uint8, got {images.dtype}")
    if images.ndim == 3:
        images = images[None]
    if images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE, 3):
        raise ValueError(f"images must be aligned faces of shape [B, {IMAGE_SIZE}, {IMAGE_SIZE}, "
                         f"3], got {list(images.shape)}")
    return (tf.constant(images),
            tf.constant(np.asarray(landmarks, np.float32).reshape(-1, 5, 2)))


def bn_batch_effect(frontalizer: Frontalizer, images: np.ndarray, landmarks: np.ndarray
                    ) -> dict:
    """Effect of the batch on one face's frontal (the BN mode's signature on serving).

    images uint8 [N, 128, 128, 3] (N >= 2), landmarks [N, 5, 2]. Face 0 alone (batch of one)
    vs face 0 inside the batch of all N. Returns {"batch", "mean_abs_float", "max_abs_float",
    "mean_abs_uint8"}: differences of G's float output and of the uint8 picture (grey levels).
    """
    if len(images) < 2:
        raise ValueError("bn_batch_effect needs at least 2 faces")
    alone = frontalizer.frontalize_float(images[:1], landmarks[:1])
    together = frontalizer.frontalize_float(images, landmarks)[:1]
    diff = np.abs(alone - together)
    to8 = lambda x: to_uint8(tf.convert_to_tensor(x), frontalizer.output_range).numpy()  # noqa
    diff8 = np.abs(to8(alone).astype(np.int32) - to8(together).astype(np.int32))
    return {"batch": int(len(images)), "mean_abs_float": float(diff.mean()),
            "max_abs_float": float(diff.max()), "mean_abs_uint8": float(diff8.mean())}
