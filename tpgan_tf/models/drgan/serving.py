"""DR-GAN at inference: its serving module (tpgan_tf/serving/module.py), whose traced
functions are the SavedModel signatures (tpgan_tf/serving/export.py exports them) and the
Python API; "spec N.M" is a section of this package's README.md.

Every image input is an ALIGNED face, the 128 x 128 crop of tpgan spec 1.2 that the records
jobs write (tpgan_tf.faces.alignment.align_face), uint8 RGB; in the graph it becomes DR-GAN's
test input (drgan spec 4.3, 7): bilinear resize to data.load_size (110), centre
data.image_size (96) crop, x / 127.5 - 1. Image outputs are the decoder's s x s tanh image as
uint8 (round((x + 1) * 127.5), the inverse of the input scaling). z = 0 (the mean of U(-1, 1)
and of N(0, sigma^2)); BN in inference mode (moving averages), so a face's output does not
depend on the rest of the request batch.

Signatures (serving_default = frontalize):
  frontalize           image uint8 [B, 128, 128, 3] -> frontal uint8 [B, s, s, 3]
                       (pose code of the frontal view, yaw 0)
  rotate               image, pose int32 [B] (view index 0..N-1 of the config's pose set, 0 =
                       yaw -max_yaw, 15-degree steps) -> image uint8 [B, s, s, 3]
  rotate_float         the same -> image_float float32 [B, s, s, 3] in [-1, 1] (for checking
                       an export against the Keras model)
  encode               image -> features float32 [B, N^f] (f(x), the identity representation)
                       and omega float32 [B, 1] (the confidence; 1 without a confidence head)
  fuse_and_frontalize  images uint8 [B, n, 128, 128, 3] (n faces of one person per row, any
                       n >= 1) -> frontal uint8 [B, s, s, 3] of the omega-weighted fused f
                       (spec 2.5) and that features float32 [B, N^f]
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from tpgan_tf.models.drgan import sampling
from tpgan_tf.models.drgan.confidence import fuse_features
from tpgan_tf.models.drgan.inputs import eval_input
from tpgan_tf.serving.module import ServingModule

ALIGNED = 128  # the aligned crop (tpgan spec 1.2)
FUSE_EXAMPLE_IMAGES = 4  # n of SIGNATURE_INPUTS' fuse_and_frontalize instance (code: multi_N)


def to_uint8(images) -> tf.Tensor:
    """tanh images in [-1, 1] -> uint8: clip(round((x + 1) * 127.5), 0, 255)."""
    x = (tf.cast(images, tf.float32) + 1.0) * 127.5
    return tf.cast(tf.clip_by_value(tf.round(x), 0.0, 255.0), tf.uint8)


class DrganServing(ServingModule):
    """The signatures of the module doc over a built encoder and decoder of `cfg`."""

    # Endpoint method -> its input kind (spec); signature name -> method.
    ENDPOINTS = {"frontalize": "image", "rotate": "image_pose", "rotate_float": "image_pose",
                 "encode": "image", "fuse_and_frontalize": "images"}
    SIGNATURES = {"serving_default": "frontalize", "frontalize": "frontalize",
                  "rotate": "rotate", "rotate_float": "rotate_float", "encode": "encode",
                  "fuse_and_frontalize": "fuse_and_frontalize"}
    SIGNATURE_INPUTS = {
        "serving_default": {"image": ("uint8", (ALIGNED, ALIGNED, 3))},
        "frontalize": {"image": ("uint8", (ALIGNED, ALIGNED, 3))},
        "rotate": {"image": ("uint8", (ALIGNED, ALIGNED, 3)), "pose": ("int32", ())},
        "rotate_float": {"image": ("uint8", (ALIGNED, ALIGNED, 3)), "pose": ("int32", ())},
        "encode": {"image": ("uint8", (ALIGNED, ALIGNED, 3))},
        "fuse_and_frontalize": {"images": ("uint8",
                                           (FUSE_EXAMPLE_IMAGES, ALIGNED, ALIGNED, 3))},
    }

    def __init__(self, encoder, decoder, cfg):
        self.encoder, self.decoder, self.cfg = encoder, decoder, cfg
        self.num_views = cfg.data.num_views
        self.feature_dim = encoder.feature_dim
        # One traced encoder and one traced decoder graph, called by every signature.
        self._encode = tf.function(self._encode_fn, autograph=False, input_signature=[
            tf.TensorSpec([None, ALIGNED, ALIGNED, 3], tf.uint8)])
        self._decode = tf.function(self._decode_fn, autograph=False, input_signature=[
            tf.TensorSpec([None, self.feature_dim], tf.float32),
            tf.TensorSpec([None], tf.int32)])

    @classmethod
    def from_networks(cls, networks, config) -> "DrganServing":
        """The module of a DR-GAN run's encoder and decoder."""
        return cls(networks["encoder"], networks["decoder"], config)

    @classmethod
    def examples(cls, config, batch_size: int, seed: int = 0) -> dict:
        """{signature: {input: numpy array of batch_size instances}}: random aligned faces,
        valid view indices and rows of FUSE_EXAMPLE_IMAGES faces."""
        rng = np.random.default_rng(seed)
        faces = lambda *shape: rng.integers(0, 256, (*shape, ALIGNED, ALIGNED, 3),  # noqa: E731
                                            dtype=np.uint8)
        image = faces(batch_size)
        pose = rng.integers(0, config.data.num_views, batch_size).astype(np.int32)
        return {"serving_default": {"image": image}, "frontalize": {"image": image},
                "rotate": {"image": image, "pose": pose},
                "rotate_float": {"image": image, "pose": pose}, "encode": {"image": image},
                "fuse_and_frontalize": {"images": faces(batch_size, FUSE_EXAMPLE_IMAGES)}}

    # -- the two networks
    def _encode_fn(self, images):
        x = eval_input(images, self.cfg.data.load_size, self.cfg.data.image_size)
        out = self.encoder(x, training=False)
        return (tf.cast(out["features"], tf.float32), tf.cast(out["omega"], tf.float32))

    def _decode_fn(self, features, view):
        """features [B, N^f], view indices [B] -> the tanh image [B, s, s, 3], z = 0."""
        code = sampling.pose_code(sampling.view_target(view, self.cfg), self.cfg)
        z = tf.zeros([tf.shape(features)[0], self.cfg.model.z_dim])
        return tf.cast(self.decoder({"features": features, "pose": code, "z": z},
                                    training=False), tf.float32)

    def _checked_views(self, pose):
        pose = tf.cast(pose, tf.int32)
        ok = tf.debugging.Assert(
            tf.reduce_all((pose >= 0) & (pose < self.num_views)),
            [f"pose: view indices must be in [0, {self.num_views}) (0 = yaw "
             f"-{self.cfg.data.max_yaw}, 15-degree steps); got", pose], summarize=20)
        with tf.control_dependencies([ok]):
            return tf.identity(pose)

    def _frontal_views(self, features):
        return tf.fill([tf.shape(features)[0]], sampling.frontal_index(self.cfg))

    # -- the signatures' functions (dicts of named outputs)
    def frontalize(self, image):
        features, _ = self._encode(image)
        return {"frontal": to_uint8(self._decode(features, self._frontal_views(features)))}

    def rotate(self, image, pose):
        features, _ = self._encode(image)
        return {"image": to_uint8(self._decode(features, self._checked_views(pose)))}

    def rotate_float(self, image, pose):
        features, _ = self._encode(image)
        return {"image_float": self._decode(features, self._checked_views(pose))}

    def encode(self, image):
        features, omega = self._encode(image)
        return {"features": features, "omega": omega}

    def fuse_and_frontalize(self, images):
        shape = tf.shape(images)
        features, omega = self._encode(tf.reshape(images, [-1, ALIGNED, ALIGNED, 3]))
        features = tf.reshape(features, [shape[0], shape[1], self.feature_dim])
        fused = fuse_features(features, tf.reshape(omega, [shape[0], shape[1]]),
                              self.cfg.model.fusion_epsilon)
        return {"frontal": to_uint8(self._decode(fused, self._frontal_views(fused))),
                "features": fused}

    # -- specs (the base traces each method once for its spec, dynamic batch)
    def spec(self, method: str) -> list:
        kind = self.ENDPOINTS[method]
        image = tf.TensorSpec([None, ALIGNED, ALIGNED, 3], tf.uint8, name="image")
        if kind == "image_pose":
            return [image, tf.TensorSpec([None], tf.int32, name="pose")]
        if kind == "images":
            return [tf.TensorSpec([None, None, ALIGNED, ALIGNED, 3], tf.uint8, name="images")]
        return [image]

    def export_info(self) -> dict:
        from tpgan_tf.faces import alignment

        d, m = self.cfg.data, self.cfg.model
        return {"input": f"aligned {ALIGNED}x{ALIGNED} face (tpgan spec 1.2) -> bilinear "
                         f"{d.load_size}x{d.load_size} -> centre {d.image_size}x{d.image_size} "
                         "crop -> x / 127.5 - 1",
                "output_size": d.image_size, "load_size": d.load_size, "z": "zeros",
                "bn_mode": m.bn_mode,
                "pose_views_yaw_degrees": [i * 15 - d.max_yaw for i in range(self.num_views)],
                "frontal_view": sampling.frontal_index(self.cfg),
                "pose_code": m.pose_code, "feature_dim": int(self.feature_dim),
                # Multi-image DR-GAN (spec 2.5): with a confidence head, fuse_and_frontalize
                # weights each face by its omega; without one every omega is 1.
                "multi_images": m.multi_images, "confidence": m.confidence,
                # The aligned inputs: the records jobs' crops (tpgan spec 1.2), for the photo
                # tool (tpgan_tf/photos) to make them from a photo's five points.
                "alignment": {"rule": "tpgan spec 1.2", "crop_size": alignment.CROP_SIZE,
                              "ec_y": alignment.EC_Y, "ec_mc_y": alignment.EC_MC_Y,
                              "template_landmarks":
                                  alignment.template_landmarks().round(2).tolist()}}

    # -- Python API (numpy in, numpy out; the same graphs as the SavedModel)
    def run(self, method: str, *arrays) -> dict:
        """Endpoint `method` on numpy inputs -> {output name: numpy array}."""
        out = self.traced(method)(*[tf.constant(a) for a in arrays])
        return {k: v.numpy() for k, v in out.items()}

