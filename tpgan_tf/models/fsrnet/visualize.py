"""Pictures of FSRNet's priors (TensorBoard, picture sheets): heatmaps as one grey image, parsing
maps as one colour image. TensorFlow, batched; float32 in [0, 1] out."""
from __future__ import annotations

import tensorflow as tf

# One colour per Helen-11 label (prior_sets.HELEN11), the 3 global classes as
# background / face / hair, the 6 drawn parts in their Helen-11 colours.
PALETTES = {
    "helen11": ((0.0, 0.0, 0.0), (0.95, 0.75, 0.6), (0.55, 0.3, 0.1), (0.75, 0.45, 0.15),
                (0.1, 0.4, 0.95), (0.2, 0.7, 1.0), (0.95, 0.95, 0.2), (0.9, 0.2, 0.3),
                (0.4, 0.05, 0.1), (0.95, 0.45, 0.55), (0.45, 0.25, 0.55)),
    "global3": ((0.0, 0.0, 0.0), (0.95, 0.75, 0.6), (0.45, 0.25, 0.55)),
    "parts6": ((0.0, 0.0, 0.0), (0.95, 0.75, 0.6), (0.55, 0.3, 0.1), (0.1, 0.4, 0.95),
               (0.95, 0.95, 0.2), (0.9, 0.2, 0.3)),
}


def heatmap_image(heatmaps) -> tf.Tensor:
    """[B, h, w, N] landmark heatmaps -> [B, h, w, 3]: the maximum over the N maps, clipped to
    [0, 1], as grey."""
    grey = tf.clip_by_value(tf.reduce_max(tf.cast(heatmaps, tf.float32), axis=-1,
                                          keepdims=True), 0.0, 1.0)
    return tf.tile(grey, [1, 1, 1, 3])


def parsing_image(parsing, parsing_set: str) -> tf.Tensor:
    """[B, h, w, C] (soft) parsing maps of `parsing_set` -> [B, h, w, 3]: each pixel the
    palette colours weighted by its maps (clipped to [0, 1] first)."""
    palette = tf.constant(PALETTES[parsing_set], tf.float32)  # [C, 3]
    maps = tf.clip_by_value(tf.cast(parsing, tf.float32), 0.0, 1.0)
    if maps.shape[-1] != palette.shape[0]:
        raise ValueError(f"{parsing_set} has {palette.shape[0]} classes, got {maps.shape[-1]} maps")
    return tf.clip_by_value(tf.einsum("bhwc,cd->bhwd", maps, palette), 0.0, 1.0)


def prior_images(priors, num_landmarks: int, parsing_set: str) -> dict:
    """[B, h, w, K] prior maps (landmarks first, spec 5) -> {"heatmaps", "parsing": [B, h, w, 3]}."""
    priors = tf.cast(priors, tf.float32)
    return {"heatmaps": heatmap_image(priors[..., :num_landmarks]),
            "parsing": parsing_image(priors[..., num_landmarks:], parsing_set)}
