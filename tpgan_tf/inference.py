"""Frontalization at inference: the training input built in-graph, G, and the picture out.

One implementation serves three callers: Python inference (`Frontalizer`), the exported
SavedModel signatures (tpgan_tf/export.py adds the same `Frontalizer` methods as endpoints)
and the photo tool (experiments/frontalize.py).

From an aligned face to its frontal (`Frontalizer.frontalize_aligned`), per example:
  1. Facing side (spec 6.4 [INFER]): the face looks image-left (negative yaw) when the nose tip
     is left of the eye midpoint, x2 < (x0 + x1) / 2. Ties (a frontal face) are not mirrored.
  2. Patch windows of spec 1.4 from the 5 landmarks with the pose-independent nose rule
     (o = 20, spec 1.4: for cameras we do not know), in the `.5pt` index convention of
     data_prep.patches: index = round_half_away(0-based landmark) + 1. Zero fill outside.
  3. Mirror to one side (spec 1.1, 1.4) exactly as the training pipeline
     (tpgan_tf/input_pipeline.py) does: patches are cut from the UNmirrored face first; a
     face looking left is then flipped, every patch flipped and the two eye patches swapped.
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
the network for negative yaws; tests/test_export.py measures the effect on the output.

From a photo (`Frontalizer.frontalize_image`, `align_photos`): decode (JPEG/PNG/GIF/BMP, any size), check
the landmarks, align with the spec 1.2 similarity of data_prep.alignment.alignment_matrix
(roll from the eye line, scale 48 / (mouth_y - eye_y) or 1 when that is <= 0, eye centre to
(64, 40)), warp with ImageProjectiveTransformV3 (bilinear, zero fill; when the face is shrunk,
first an antialiased Keys-cubic shrink by exactly the scale, as data_prep.alignment does with
MATLAB's kernel), then the steps above; PNG bytes out.
"""
from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from tpgan_tf import checkpointing
from tpgan_tf.config import Config, apply_overrides, get_config, load_config
from tpgan_tf.generator import Generator
from tpgan_tf.parts import IMAGE_SIZE, PART_BY_NAME, PART_NAMES

OUTPUT_RANGES = ("minmax", "clip")
POSE_INDEPENDENT_NOSE_OFFSET = 20  # spec 1.4: o = 20 for unknown cameras (= data_prep.cameras)
EC_Y = 40  # spec 1.2: eye-centre row in the crop (0-based), as data_prep.alignment
EC_MC_Y = 48  # spec 1.2: eye-centre to mouth-centre height
_SWAP_ORDER = [1, 0, 2, 4, 3]  # mirroring swaps eyes (0, 1) and mouth corners (3, 4)


# ---------------------------------------------------------------- loading G

def load_generator(path: str | None = None, config: Config | str | None = None,
                   bn_mode: str | None = None) -> tuple[Generator, Config, str | None]:
    """Builds G and restores it from a training checkpoint.

    path: a training run's directory (config.json + the checkpoints of
        tpgan_tf.checkpointing; its newest one is used) or a checkpoint prefix
        (`<model_dir>/ckpt-1500`). None gives a freshly initialised G (demos, tests).
    config: a Config or preset name; default: the run's config.json, or "paper" without a
        path.
    bn_mode: overrides config.model.bn_mode ("batch_stats" or "inference").
    Returns (generator built for any batch size, the config used, the checkpoint prefix or
    None). Raises FileNotFoundError naming the path when it has no config or no checkpoint,
    and ValueError when the checkpoint lacks some of G's variables or does not fit the config.
    """
    ckpt = None
    if path:
        if config is None:
            config = load_config(path if os.path.isdir(path) else os.path.dirname(path))
        ckpt = checkpointing.resolve_checkpoint(path)
    if config is None:
        config = get_config("paper")
    elif isinstance(config, str):
        config = get_config(config)
    if bn_mode is not None:
        config = apply_overrides(config, [f"model.bn_mode={bn_mode}"])
    generator = Generator.from_model_config(config.model).build_for_batch(1)
    if ckpt:
        checkpointing.restore_generator(generator, ckpt)
    return generator, config, ckpt


# ---------------------------------------------------------------- landmarks and windows

def round_half_away(values: tf.Tensor) -> tf.Tensor:
    """MATLAB round (halves away from zero), as data_prep.landmarks.round_half_away; int32."""
    v = tf.convert_to_tensor(values)
    return tf.cast(tf.sign(v) * tf.floor(tf.abs(v) + 0.5), tf.int32)


def index_points(landmarks: tf.Tensor) -> tf.Tensor:
    """0-based float landmarks [..., 5, 2] -> `.5pt` integers round(p) + 1 (int32), the indices
    the original used for its patch windows (data_prep.landmarks.to_index_points)."""
    return round_half_away(landmarks) + 1


def part_windows(landmarks: tf.Tensor,
                 nose_offset: int = POSE_INDEPENDENT_NOSE_OFFSET) -> tf.Tensor:
    """Spec 1.4 windows for 0-based float landmarks [B, 5, 2] -> int32 [B, 4, 2] (top, left).

    Parts in tpgan_tf.parts.PART_NAMES order; equal to
    data_prep.patches.part_windows(to_index_points(landmarks), nose_offset) for each example.
    """
    p = index_points(landmarks)
    x, y = p[..., 0], p[..., 1]
    eye, nose, mouth = PART_BY_NAME["eye_left"], PART_BY_NAME["nose"], PART_BY_NAME["mouth"]
    # Mouth centre: floor of the corner mean (the original's int // int floors).
    my = tf.math.floordiv(y[:, 3] + y[:, 4], 2)
    mx = tf.math.floordiv(x[:, 3] + x[:, 4], 2)
    tops = [y[:, 0] - eye.height // 2, y[:, 1] - eye.height // 2,
            y[:, 2] + 11 - nose.height,  # spec 1.4: nose rows [y2 - 21, y2 + 11)
            my - mouth.height // 2]
    lefts = [x[:, 0] - eye.width // 2, x[:, 1] - eye.width // 2,
             x[:, 2] - nose_offset + 1,  # spec 1.4: nose cols [x2 - o + 1, x2 - o + 41)
             mx - mouth.width // 2]
    return tf.stack([tf.stack(tops, axis=1), tf.stack(lefts, axis=1)], axis=2)


def cut_patches(images: tf.Tensor, windows: tf.Tensor) -> dict:
    """images [B, H, W, C] (any dtype), windows int32 [B, 4, 2] -> {part: [B, h, w, C]}.

    A window reaching outside the image is zero-filled there, never shifted (as
    data_prep.patches.crop_window and the training pipeline).
    """
    height, width = tf.shape(images)[1], tf.shape(images)[2]
    channels = images.shape[-1]
    patches = {}
    for i, name in enumerate(PART_NAMES):
        part = PART_BY_NAME[name]
        rows = windows[:, i, 0:1] + tf.range(part.height)[None, :]  # [B, h]
        cols = windows[:, i, 1:2] + tf.range(part.width)[None, :]  # [B, w]
        picked = tf.gather(images, tf.clip_by_value(rows, 0, height - 1), axis=1, batch_dims=1)
        picked = tf.gather(picked, tf.clip_by_value(cols, 0, width - 1), axis=2, batch_dims=1)
        inside = (((rows >= 0) & (rows < height))[:, :, None, None]
                  & ((cols >= 0) & (cols < width))[:, None, :, None])
        patch = tf.where(inside, picked, tf.zeros_like(picked))
        patches[name] = tf.ensure_shape(patch, [None, part.height, part.width, channels])
    return patches


def faces_left(landmarks: tf.Tensor) -> tf.Tensor:
    """bool [B]: the face looks image-left (negative yaw): nose x < eye-midpoint x (spec 6.4)."""
    return landmarks[:, 2, 0] < 0.5 * (landmarks[:, 0, 0] + landmarks[:, 1, 0])


def mirror_landmarks(landmarks: tf.Tensor, width: int = IMAGE_SIZE) -> tf.Tensor:
    """[B, 5, 2] 0-based landmarks of the left-right flipped image: x -> width - 1 - x, with
    eyes and mouth corners swapped so that "left" is image-left again (spec 1.4)."""
    p = tf.gather(landmarks, _SWAP_ORDER, axis=1)
    return tf.stack([(width - 1) - p[..., 0], p[..., 1]], axis=-1)


def _where_batch(cond: tf.Tensor, a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    """Per-example select: cond [B] bool, a and b [B, ...]."""
    shape = tf.concat([tf.shape(cond), tf.ones([tf.rank(a) - 1], tf.int32)], axis=0)
    return tf.where(tf.reshape(cond, shape), a, b)


def generator_inputs(images: tf.Tensor, landmarks: tf.Tensor,
                     nose_offset: int = POSE_INDEPENDENT_NOSE_OFFSET) -> tuple[dict, tf.Tensor]:
    """Steps 1-4 of the module doc without z: the training input of spec 1.1 / 1.4.

    images uint8 [B, 128, 128, 3] aligned faces; landmarks float32 [B, 5, 2] in their 0-based
    crop coordinates. Returns ({image, eye_left, eye_right, nose, mouth} float32 in [0, 1),
    mirrored bool [B]).
    """
    images = tf.convert_to_tensor(images)
    landmarks = tf.cast(landmarks, tf.float32)
    mirrored = faces_left(landmarks)
    # Spec 1.4: patches come from the unmirrored face, then are mirrored with it.
    patches = cut_patches(images, part_windows(landmarks, nose_offset))
    flip = lambda t: tf.reverse(t, axis=[2])  # noqa: E731  (left-right flip of [B, H, W, C])
    swap = {"eye_left": "eye_right", "eye_right": "eye_left"}
    out = {"image": _where_batch(mirrored, flip(images), images)}
    for name in PART_NAMES:
        out[name] = _where_batch(mirrored, flip(patches[swap.get(name, name)]), patches[name])
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


# ---------------------------------------------------------------- spec 1.2 alignment in TF

def alignment_matrices(landmarks: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Spec 1.2 similarity for raw 0-based landmarks [B, 5, 2] (float64 inside).

    Returns (matrix float64 [B, 2, 3] raw -> crop, scale float64 [B]); the same matrix as
    data_prep.alignment.alignment_matrix: crop = s R (p - e) + (64, 40).
    """
    p = tf.cast(landmarks, tf.float64)
    # Step 1: roll = atan(eye-line slope), 0 when both eyes share the same x.
    slope = tf.math.divide_no_nan(p[:, 0, 1] - p[:, 1, 1], p[:, 0, 0] - p[:, 1, 0])
    t = tf.atan(slope)
    cos, sin = tf.cos(t), tf.sin(t)
    eye = 0.5 * (p[:, 0] + p[:, 1])
    mouth = 0.5 * (p[:, 3] + p[:, 4])
    # Step 4: d = (R (m - e))_y; s = 48 / d, or 1 when d <= 0.
    d = -sin * (mouth[:, 0] - eye[:, 0]) + cos * (mouth[:, 1] - eye[:, 1])
    scale = tf.where(d > 0, EC_MC_Y / tf.where(d > 0, d, tf.ones_like(d)), tf.ones_like(d))
    lin = scale[:, None, None] * tf.stack([tf.stack([cos, sin], -1),
                                           tf.stack([-sin, cos], -1)], axis=1)
    centre = tf.constant([IMAGE_SIZE // 2, EC_Y], tf.float64)  # step 5
    offset = centre[None] - tf.linalg.matvec(lin, eye)
    return tf.concat([lin, offset[:, :, None]], axis=2), scale


def apply_matrices(matrices: tf.Tensor, points: tf.Tensor) -> tf.Tensor:
    """[B, 2, 3] affine matrices applied to [B, N, 2] points -> [B, N, 2] (float64)."""
    p = tf.cast(points, tf.float64)
    return tf.einsum("bij,bnj->bni", matrices[:, :, :2], p) + matrices[:, None, :, 2]


def _warp(image: tf.Tensor, crop_to_source: tf.Tensor) -> tf.Tensor:
    """Bilinear, zero-filled 128 x 128 warp of image [H, W, 3] float32; crop_to_source is the
    [2, 3] float64 map from crop to source pixel centres (what the op wants: output -> input)."""
    transform = tf.concat([tf.reshape(tf.cast(crop_to_source, tf.float32), [6]),
                           tf.zeros([2], tf.float32)], axis=0)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=image[None], transforms=transform[None],
        output_shape=tf.constant([IMAGE_SIZE, IMAGE_SIZE], tf.int32),
        fill_value=tf.constant(0.0, tf.float32), interpolation="BILINEAR",
        fill_mode="CONSTANT")[0]


def align_image(image: tf.Tensor, matrix: tf.Tensor, scale: tf.Tensor) -> tf.Tensor:
    """One raw uint8 [H, W, 3] image -> the aligned uint8 [128, 128, 3] crop (spec 1.2).

    matrix float64 [2, 3] raw -> crop and its scale (from `alignment_matrices`).
    """
    raw = tf.cast(image, tf.float32)
    lin_inv = tf.linalg.inv(matrix[:, :2])  # (s R)^-1 = R^T / s
    crop_to_raw = tf.concat([lin_inv, -tf.matmul(lin_inv, matrix[:, 2:])], axis=1)

    def direct():  # s >= 1: one bilinear resample from the raw image
        return _warp(raw, crop_to_raw)

    def shrink_then_warp():
        # s < 1: a point-sampling warp would alias; shrink by exactly s first with the
        # antialiased Keys cubic (a = -0.5, kernel widened by 1/s; the kernel of MATLAB's
        # imresize and of data_prep.alignment), half-pixel centres: small = s (raw + .5) - .5.
        s32 = tf.cast(scale, tf.float32)
        hw = tf.cast(tf.shape(raw)[:2], tf.float64)
        size = tf.cast(tf.maximum(tf.math.ceil(scale * hw), 1.0), tf.int32)
        small = tf.raw_ops.ScaleAndTranslate(
            images=raw[None], size=size, scale=tf.stack([s32, s32]),
            translation=tf.zeros([2], tf.float32), kernel_type="keyscubic", antialias=True)[0]
        crop_to_small = scale * crop_to_raw + tf.constant(
            [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]], tf.float64) * (0.5 * scale - 0.5)
        return _warp(small, crop_to_small)

    crop = tf.cond(scale < 1.0, shrink_then_warp, direct)
    return tf.cast(tf.clip_by_value(tf.round(crop), 0.0, 255.0), tf.uint8)


def _check_batch(image_like: tf.Tensor, landmarks: tf.Tensor, what: str) -> list:
    """Assertions shared by both entry points: equal batch sizes and finite landmarks."""
    return [
        tf.debugging.assert_equal(
            tf.shape(image_like)[0], tf.shape(landmarks)[0],
            message=f"{what}: the image batch and the landmarks batch differ in size"),
        tf.debugging.Assert(
            tf.reduce_all(tf.math.is_finite(landmarks)),
            [f"{what}: landmarks must be finite numbers; got", landmarks], summarize=50),
    ]


def _inside(landmarks: tf.Tensor, height, width) -> tf.Tensor:
    """True if every point lies on the pixel area: -0.5 <= x <= W - 0.5, -0.5 <= y <= H - 0.5
    (data_prep.landmarks.check_landmarks)."""
    x, y = landmarks[..., 0], landmarks[..., 1]
    w, h = tf.cast(width, landmarks.dtype), tf.cast(height, landmarks.dtype)
    return tf.reduce_all((x >= -0.5) & (x <= w - 0.5) & (y >= -0.5) & (y <= h - 0.5))


def align_photos(image_bytes, landmarks) -> tuple[tf.Tensor, tf.Tensor]:
    """Encoded photos string [B] + raw 0-based landmarks float32 [B, 5, 2] -> (aligned
    uint8 [B, 128, 128, 3], crop landmarks float32 [B, 5, 2]). Raises on undecodable
    bytes and on landmarks that are not finite or lie outside their photo."""
    image_bytes = tf.convert_to_tensor(image_bytes, tf.string)
    landmarks = tf.convert_to_tensor(landmarks, tf.float32)
    with tf.control_dependencies(_check_batch(image_bytes, landmarks, "frontalize_image")):
        matrices, scales = alignment_matrices(landmarks)

    def align_one(args):
        data, points, matrix, scale = args
        image = tf.io.decode_image(data, channels=3, dtype=tf.uint8, expand_animations=False)
        shape = tf.shape(image)
        check = tf.debugging.Assert(
            _inside(points, shape[0], shape[1]),
            ["frontalize_image: a landmark lies outside its image (need -0.5 <= x <= "
             "width - 0.5 and -0.5 <= y <= height - 0.5); image height, width:",
             shape[:2], "landmarks:", points], summarize=50)
        with tf.control_dependencies([check]):
            return align_image(image, matrix, scale)

    aligned = tf.map_fn(align_one, (image_bytes, landmarks, matrices, scales),
                        fn_output_signature=tf.TensorSpec([IMAGE_SIZE, IMAGE_SIZE, 3],
                                                          tf.uint8))
    crop_points = tf.cast(apply_matrices(matrices, landmarks), tf.float32)
    return aligned, crop_points


# ---------------------------------------------------------------- the frontalizer

class Frontalizer:
    """G plus the in-graph pre- and post-processing of the module doc.

    Its `frontalize_aligned`, `frontal_float` and `frontalize_image` methods are plain Python
    functions of tensors; `traced(name)` gives their tf.functions, which are both the SavedModel
    endpoints (tpgan_tf/export.py) and what the numpy API (`frontalize`, `frontalize_float`,
    `frontalize_photos`) runs. Nothing here is random: z = 0.
    """

    def __init__(self, generator: Generator, output_range: str = "minmax",
                 nose_offset: int = POSE_INDEPENDENT_NOSE_OFFSET):
        if output_range not in OUTPUT_RANGES:
            raise ValueError(f"output_range must be one of {OUTPUT_RANGES}, got {output_range!r}")
        self.generator = generator
        self.output_range = output_range
        self.nose_offset = int(nose_offset)
        self._fns = {}
        self._generate_fn = None

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
        return _where_batch(mirrored, tf.reverse(frontal, axis=[2]), frontal)

    def _checked_aligned(self, image, landmarks):
        image = tf.convert_to_tensor(image, tf.uint8)
        landmarks = tf.convert_to_tensor(landmarks, tf.float32)
        with tf.control_dependencies(_check_batch(image, landmarks, "landmarks")):
            # After the finiteness check, so that NaNs are reported as such.
            inside = tf.debugging.Assert(
                _inside(landmarks, IMAGE_SIZE, IMAGE_SIZE),
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
        aligned, points = align_photos(image_bytes, landmarks)
        frontal = to_uint8(self.generate(aligned, points), self.output_range)
        encode = lambda batch: tf.map_fn(  # noqa: E731
            tf.io.encode_png, batch, fn_output_signature=tf.TensorSpec([], tf.string))
        return {"frontal_png_bytes": encode(frontal), "aligned_png_bytes": encode(aligned),
                "aligned_landmarks": points}

    # -- traced functions: the SavedModel endpoints and the Python API below run these
    ENDPOINTS = {"frontalize_aligned": "aligned", "frontal_float": "aligned",
                 "frontalize_image": "encoded"}

    def traced(self, name: str):
        """The tf.function of method `name` (a key of ENDPOINTS), traced once for its
        signature with a dynamic batch size; later calls of any batch size reuse that trace.

        No input_signature on purpose: tf.saved_model.save would retrace such a function in
        its save context (a second trace of G, minutes at paper size); a tf.function without
        one is saved with the traces it already has.
        """
        if name not in self._fns:
            if name not in self.ENDPOINTS:
                raise ValueError(f"unknown endpoint {name!r}; one of {sorted(self.ENDPOINTS)}")
            fn = tf.function(getattr(self, name), autograph=False)
            spec = (self.aligned_signature() if self.ENDPOINTS[name] == "aligned"
                    else self.encoded_signature())
            fn.get_concrete_function(*spec)
            self._fns[name] = fn
        return self._fns[name]

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

