"""The LR degradation of fsrnet spec 1, in TensorFlow (graph-friendly, batched).

    degrade(hr)   [B, 128, 128, 3] in [0, 1] -> [B, 128, 128, 3]: antialiased bicubic down x8
                  (128 -> 16), then bicubic up x8 back to 128 (the network's input x).
The shipped official LR files match an antialiased bicubic x1/8 -> x8 of the HR files
(Pillow BICUBIC: 41.4 dB RGB PSNR on Helen, spec 1 [COMP]), not point sampling (25 dB).
TF's antialiased bicubic is the same kind of filter as Pillow's (Keys cubic a = -0.5, support
widened by the scale factor, weights renormalised at the border); it keeps floats where
Pillow rounds to bytes after each pass.

JPEG (spec 1: both official HR and LR test files are JPEG quality 75) is a separate,
per-image function, `jpeg_roundtrip`, applied to the HR and / or the LR by the caller.
"""
from __future__ import annotations

import tensorflow as tf

SCALE = 8  # spec 1: 16 x 16 -> 128 x 128
JPEG_QUALITY = 75  # spec 1 [COMP]: libjpeg's standard tables scaled by 0.5


def _check_images(images: tf.Tensor, where: str) -> tf.Tensor:
    images = tf.convert_to_tensor(images)
    if images.shape.rank != 4:
        raise ValueError(f"{where} needs NHWC images [B, H, W, C], got shape {images.shape}")
    return images


def bicubic_downsample(images, factor: int = SCALE) -> tf.Tensor:
    """Antialiased bicubic resize by 1/factor: [B, H, W, C] float -> [B, H/f, W/f, C] float32.
    H and W must be multiples of factor."""
    images = _check_images(images, "bicubic_downsample")
    if factor < 1:
        raise ValueError(f"factor must be >= 1, got {factor}")
    h, w = images.shape[1], images.shape[2]
    if h is None or w is None or h % factor or w % factor:
        raise ValueError(f"bicubic_downsample: H and W must be known multiples of {factor}, "
                         f"got shape {images.shape}")
    return tf.image.resize(tf.cast(images, tf.float32), (h // factor, w // factor),
                           method="bicubic", antialias=True)


def bicubic_upsample(images, size) -> tf.Tensor:
    """Bicubic resize to `size` = (height, width): [B, h, w, C] -> [B, height, width, C]
    float32, unclipped. (Also what a serving graph must use on raw 16 x 16 inputs.)"""
    images = _check_images(images, "bicubic_upsample")
    return tf.image.resize(tf.cast(images, tf.float32), size, method="bicubic", antialias=True)


def degrade(hr, scale: int = SCALE, clip: bool = True) -> tf.Tensor:
    """The spec 1 degradation: antialiased bicubic down by `scale`, bicubic back up.

    hr: [B, H, W, 3] float in [0, 1], H and W multiples of scale. Returns the bicubic LR at
    the HR size [B, H, W, 3] float32. With clip, the small image and the result are clipped
    to [0, 1], as 8-bit files would be (bicubic overshoots at edges). No rounding to bytes.
    """
    hr = _check_images(hr, "degrade")
    small = bicubic_downsample(hr, scale)
    if clip:  # the 16 x 16 face is an image too (and clipping it matches the files better)
        small = tf.clip_by_value(small, 0.0, 1.0)
    lr = bicubic_upsample(small, (hr.shape[1], hr.shape[2]))
    return tf.clip_by_value(lr, 0.0, 1.0) if clip else lr


def _jpeg_one(image: tf.Tensor, quality: int) -> tf.Tensor:
    pixels = tf.cast(tf.round(tf.clip_by_value(image, 0.0, 1.0) * 255.0), tf.uint8)
    encoded = tf.io.encode_jpeg(pixels, quality=quality)
    # The accurate integer IDCT: libjpeg's default, as in the authors' Torch7 scripts
    # (TF's own default is the fast one).
    decoded = tf.io.decode_jpeg(encoded, channels=3, dct_method="INTEGER_ACCURATE")
    decoded = tf.ensure_shape(decoded, image.shape)  # decode_jpeg has no static shape
    return tf.cast(decoded, tf.float32) / 255.0


def jpeg_roundtrip(images, quality: int = JPEG_QUALITY) -> tf.Tensor:
    """JPEG-encodes and decodes each image (libjpeg, 4:2:0 chroma): [B, H, W, 3] or [H, W, 3]
    float in [0, 1] -> the same shape, float32 in [0, 1] on the 1/255 grid. Per image
    (tf.map_fn over a batch)."""
    if not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality must be in 1..100, got {quality}")
    images = tf.cast(tf.convert_to_tensor(images), tf.float32)
    if images.shape.rank == 3:
        return _jpeg_one(images, quality)
    images = _check_images(images, "jpeg_roundtrip")
    return tf.map_fn(lambda im: _jpeg_one(im, quality), images,
                     fn_output_signature=tf.TensorSpec(images.shape[1:], tf.float32))
