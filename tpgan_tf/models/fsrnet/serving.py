"""FSRNet at inference: the in-graph bicubic upsampling, the generator and the pictures out.

One implementation serves Python inference (`SuperResolver`), the SavedModel signatures
(`SuperResolver` is FSRNet's serving module, tpgan_tf/serving/module.py:
tpgan_tf/serving/export.py exports its traced methods), the evaluation and
the photo tool (tpgan_tf/models/fsrnet/photos.py). Signatures (S = 128, s = S / 8 = 16):

  serving_default = super_resolve
      lr uint8 [B, s, s, 3] -> sr uint8 [B, S, S, 3], sr_float float32 [B, S, S, 3]
      The small face is upsampled IN the graph exactly as the training input was made
      (uint8 / 255, tf.image.resize bicubic with antialias, clipped to [0, 1]: spec 1), so a
      client cannot get the resize wrong.
  super_resolve_upsampled
      image uint8 [B, S, S, 3] (an LR face already bicubic-upsampled to S, e.g. the official
      test files) -> sr, sr_float as above
  priors
      lr uint8 [B, s, s, 3] -> heatmaps float32 [B, S/2, S/2, N], parsing float32
      [B, S/2, S/2, C] (the prior head's raw maps: landmarks first, spec 5), landmarks float32
      [B, N, 2] (x, y) in pixels of the S x S output, read off the heatmaps
      (priors.heatmap_landmarks)
sr = clip(round(255 y_hat), 0, 255): the linear image head's output y_hat in [0, 1] (spec 1),
clipped only here. The generator runs with training=False (BN moving averages).
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from tpgan_tf.models.fsrnet import degradation, priors
from tpgan_tf.serving.module import ServingModule


def to_uint8(images: tf.Tensor) -> tf.Tensor:
    """Float images in [0, 1] -> uint8: clip(round(255 x), 0, 255)."""
    return tf.cast(tf.clip_by_value(tf.round(tf.cast(images, tf.float32) * 255.0), 0.0, 255.0),
                   tf.uint8)


class SuperResolver(ServingModule):
    """The generator plus the in-graph pre- and post-processing of the module doc.

    Its endpoint methods are plain Python functions of tensors; `traced(name)` gives their
    tf.functions (the SavedModel endpoints and what the numpy API runs). Every endpoint calls
    one tf.function of the generator (`generate`), traced once, so an export holds the
    network graph once. Built from a task's networks with `for_task(task)` (shared traces) or
    `from_networks(networks, config)`.
    """

    SIGNATURE_INPUTS = {
        "serving_default": {"lr": ("uint8", (16, 16, 3))},
        "super_resolve": {"lr": ("uint8", (16, 16, 3))},
        "super_resolve_upsampled": {"image": ("uint8", (128, 128, 3))},
        "priors": {"lr": ("uint8", (16, 16, 3))},
    }
    # Every signature has several outputs (sr + sr_float; heatmaps, parsing, landmarks).
    SIGNATURE_OUTPUTS = {}

    def __init__(self, generator, cfg):
        self.generator = generator
        self.size = int(cfg.model.image_size)
        self.scale = int(cfg.degradation.scale)
        self.small = self.size // self.scale
        self.num_landmarks = int(cfg.priors.num_landmarks)
        self.landmark_scheme = cfg.priors.landmark_scheme
        self.parsing_set = cfg.priors.parsing_set
        self.crop_template = [float(v) for v in cfg.priors.crop_template]
        self._generate_fn = None

    # -- input specs (names are the SavedModel's input names)
    def lr_spec(self) -> list:
        return [tf.TensorSpec([None, self.small, self.small, 3], tf.uint8, name="lr")]

    def upsampled_spec(self) -> list:
        return [tf.TensorSpec([None, self.size, self.size, 3], tf.uint8, name="image")]

    # -- the core
    def upsample(self, lr) -> tf.Tensor:
        """uint8 [B, s, s, 3] -> the network input x: float32 [B, S, S, 3] in [0, 1], made
        as inputs.to_training_batch makes it from the 16 x 16 face."""
        small = tf.cast(lr, tf.float32) / 255.0
        return tf.clip_by_value(degradation.bicubic_upsample(small, (self.size, self.size)),
                                0.0, 1.0)

    def generate(self, x) -> dict:
        """x float32 [B, S, S, 3] in [0, 1] -> {"sr" float32 [B, S, S, 3] (unclipped),
        "priors" float32 [B, S/2, S/2, K]}. One traced tf.function, no input checks."""
        if self._generate_fn is None:
            spec = tf.TensorSpec([None, self.size, self.size, 3], tf.float32, name="x")
            self._generate_fn = tf.function(self._generate, autograph=False,
                                            input_signature=[spec])
        return self._generate_fn(x)

    def _generate(self, x):
        out = self.generator(x, training=False)
        return {"sr": tf.cast(out["sr"], tf.float32), "priors": tf.cast(out["priors"], tf.float32)}

    # -- endpoints
    def super_resolve(self, lr) -> dict:
        """uint8 16 x 16 faces -> {"sr": uint8, "sr_float": float32} at 128 x 128."""
        sr = self.generate(self.upsample(lr))["sr"]
        return {"sr": to_uint8(sr), "sr_float": sr}

    def super_resolve_upsampled(self, image) -> dict:
        """uint8 128 x 128 bicubic-upsampled faces -> {"sr", "sr_float"}."""
        sr = self.generate(tf.cast(image, tf.float32) / 255.0)["sr"]
        return {"sr": to_uint8(sr), "sr_float": sr}

    def priors(self, lr) -> dict:
        """uint8 16 x 16 faces -> {"heatmaps", "parsing", "landmarks"} (module doc)."""
        maps = self.generate(self.upsample(lr))["priors"]
        heat = maps[..., :self.num_landmarks]
        return {"heatmaps": heat, "parsing": maps[..., self.num_landmarks:],
                "landmarks": priors.heatmap_landmarks(heat, self.size)}

    ENDPOINTS = {"super_resolve": "lr", "super_resolve_upsampled": "upsampled", "priors": "lr"}
    # Signature name -> method (serving_default first: ExportArchive's alias rule).
    SIGNATURES = {"serving_default": "super_resolve", "super_resolve": "super_resolve",
                  "super_resolve_upsampled": "super_resolve_upsampled", "priors": "priors"}

    def spec(self, name: str) -> list:
        return self.lr_spec() if self.ENDPOINTS[name] == "lr" else self.upsampled_spec()

    @classmethod
    def from_networks(cls, networks, config) -> "SuperResolver":
        """The SuperResolver of an FSRNet generator with the sizes and priors of `config`."""
        return cls(networks["generator"], config)

    @classmethod
    def examples(cls, config, batch_size: int, seed: int = 0) -> dict:
        """{signature: {input: numpy array}}: random uint8 faces for every signature."""
        rng = np.random.default_rng(seed)
        size = int(config.model.image_size)
        small = size // int(config.degradation.scale)
        lr = rng.integers(0, 256, (batch_size, small, small, 3), dtype=np.uint8)
        image = rng.integers(0, 256, (batch_size, size, size, 3), dtype=np.uint8)
        return {"serving_default": {"lr": lr}, "super_resolve": {"lr": lr},
                "super_resolve_upsampled": {"image": image}, "priors": {"lr": lr}}

    def export_info(self) -> dict:
        return {"image_size": self.size, "lr_size": self.small, "scale": self.scale,
                "input": "uint8 / 255; 16 x 16 inputs upsampled in the graph by tf.image.resize "
                         "bicubic (antialias), clipped to [0, 1]",
                "output": "sr = clip(round(255 y_hat), 0, 255); sr_float = y_hat",
                "num_landmarks": self.num_landmarks, "landmark_scheme": self.landmark_scheme,
                "parsing_set": self.parsing_set,
                "bn_mode": self.generator.norm.get("bn_mode", "inference"),
                # How a face in a photo is cropped as the training crops were (crop_rule.py):
                # what the photo tool needs; template None = not measured for this model.
                "alignment": {
                    "rule": "five-point similarity (least squares) onto template_landmarks "
                            "(tpgan_tf/models/fsrnet/crop_rule.py)",
                    "crop_size": self.size, "lr_size": self.small,
                    "template_landmarks": (np.reshape(self.crop_template, (5, 2)).tolist()
                                           if self.crop_template else None)}}

    # -- numpy API (the same traced graphs as the SavedModel)
    def _uint8(self, images, size: int, what: str) -> tf.Tensor:
        images = np.asarray(images)
        if images.dtype != np.uint8:
            raise ValueError(f"{what} must be uint8, got {images.dtype}")
        if images.ndim == 3:
            images = images[None]
        if images.shape[1:] != (size, size, 3):
            raise ValueError(f"{what} must be [B, {size}, {size}, 3], got {list(images.shape)}")
        return tf.constant(images)

    def super_resolve_numpy(self, lr) -> dict:
        """uint8 [B, s, s, 3] -> {"sr": uint8, "sr_float": float32} numpy."""
        out = self.traced("super_resolve")(self._uint8(lr, self.small, "lr"))
        return {k: v.numpy() for k, v in out.items()}

    def super_resolve_upsampled_numpy(self, image) -> dict:
        out = self.traced("super_resolve_upsampled")(self._uint8(image, self.size, "image"))
        return {k: v.numpy() for k, v in out.items()}

    def priors_numpy(self, lr) -> dict:
        out = self.traced("priors")(self._uint8(lr, self.small, "lr"))
        return {k: v.numpy() for k, v in out.items()}
