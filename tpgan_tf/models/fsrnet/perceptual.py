"""FSRGAN's perceptual feature extractor: VGG-16 up to `block5_conv3` (relu5_3), loaded from a
local weights file (fsrnet spec 6.2). Nothing downloads at run time: the network is
keras.applications.VGG16(weights=None) and its weights come from a file the caller gives.

How to make the file (once, on a machine with internet):
    import keras
    keras.applications.VGG16(weights="imagenet", include_top=False).save_weights("vgg16.weights.h5")
The Keras download cache file `vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5`
(~/.keras/models/) loads as well.
"""
from __future__ import annotations

import os

import keras
import tensorflow as tf

from tpgan_tf.core.task import MissingResourceError

DEFAULT_LAYER = "block5_conv3"  # relu5_3: Keras' block convs include their ReLU
# keras.applications "caffe" preprocessing: BGR, 0-255, ImageNet channel means subtracted.
VGG_MEAN_BGR = (103.939, 116.779, 123.68)

HOW_TO_GET_WEIGHTS = (
    "make it once on a machine with internet: python -c \"import keras; "
    "keras.applications.VGG16(weights='imagenet', include_top=False)"
    ".save_weights('vgg16.weights.h5')\" and pass the path of vgg16.weights.h5")


def vgg_preprocess(images) -> tf.Tensor:
    """RGB in [0, 1] [B, H, W, 3] -> the caffe input keras.applications.VGG16 expects:
    BGR, scaled to 0-255, ImageNet mean subtracted. float32 out."""
    x = tf.cast(images, tf.float32) * 255.0
    return x[..., ::-1] - tf.constant(VGG_MEAN_BGR, tf.float32)


def load_vgg16_features(weights_path: str | None, layer: str = DEFAULT_LAYER) -> keras.Model:
    """The frozen VGG-16 feature extractor: [B, H, W, 3] caffe-preprocessed -> the output of
    `layer` ([B, H/16, W/16, 512] for block5_conv3). Use `perceptual_features` for [0, 1] RGB.

    weights_path: a Keras weights file of VGG16(include_top=False) (.weights.h5 or the legacy
    .h5 of the Keras cache). Raises MissingResourceError (a ValueError) saying how to make the
    file when it is missing or cannot be loaded, ValueError for an unknown layer.
    """
    if not weights_path:
        raise MissingResourceError(f"the perceptual loss needs VGG-16 weights; {HOW_TO_GET_WEIGHTS}")
    if not os.path.isfile(weights_path):
        raise MissingResourceError(
            f"VGG-16 weights file {weights_path!r} does not exist; {HOW_TO_GET_WEIGHTS}")
    vgg = keras.applications.VGG16(weights=None, include_top=False, input_shape=(None, None, 3))
    try:
        vgg.load_weights(weights_path)
    except Exception as e:  # any h5 / shape / format problem: one clear message
        raise MissingResourceError(
            f"cannot load VGG-16 weights from {weights_path!r} ({type(e).__name__}: {e}); "
            f"the file must hold keras.applications.VGG16(include_top=False) weights; "
            f"{HOW_TO_GET_WEIGHTS}") from None
    names = [layer_.name for layer_ in vgg.layers]
    if layer not in names:
        raise ValueError(f"VGG-16 has no layer {layer!r}; layers are {names}")
    features = keras.Model(vgg.input, vgg.get_layer(layer).output, name=f"vgg16_{layer}")
    features.trainable = False
    return features


def perceptual_features(vgg: keras.Model, images) -> tf.Tensor:
    """VGG features of RGB images in [0, 1] [B, H, W, 3] (preprocessed here), in inference
    mode (no dropout / BN in VGG anyway)."""
    return vgg(vgg_preprocess(images), training=False)
