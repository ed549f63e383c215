"""Structural checks that can fail (issue 15): break one property of a network for the length
of a `with` block, and measure structure in a way that sees the break.

Why. With the TF1-style initialisers N(0, 0.02) and batch norm in inference mode at
initialisation, activations are 1e-4 .. 1e-14, where ELU, ReLU, leaky ReLU and the identity
agree to any absolute tolerance. So the checks here
  * run batch norm on batch statistics (training=True, or TP-GAN's "batch_stats" mode), which
    brings every normalised activation to order 1, and
  * compare RELATIVE errors, max |got - want| / max |want|: a missing activation, norm or skip
    is an O(1) error at any scale, a correct layer an O(1e-6) one (float32).

Breaking (each undone on exit, also when the block raises):
  replaced(owner, name, value)  owner.name (or owner[name] for a dict) is `value` meanwhile
  without(owner, name, inside)  owner.name(x, ...) returns x: e.g. keras.ops "relu", tf
                                "maximum" (TP-GAN's leaky ReLU is max(x, 0.2 x)); with `inside`
                                (a class) only for calls made inside a method of that class
  bypassed(*layers)             those layer instances return their first input (BN -> identity,
                                a block dropped)

Measuring:
  relative_error(got, want)     the error above, a float
  recorded_calls(*classes)      a list that fills with (layer, args, kwargs, output) for every
                                call of a layer of those classes made inside the block
  worst_call_error(calls, reference)   max relative error of recorded outputs against
                                reference(layer, *args, training=...) (the per-layer formula)

Reference pieces (raw TF ops and numpy, never the layer's own call): conv2d, deconv2d,
batch_norm_reference.
"""
from __future__ import annotations

import contextlib
import sys

import numpy as np
import tensorflow as tf


# ---------------------------------------------------------------- breaking

@contextlib.contextmanager
def replaced(owner, name: str, value):
    """owner.name (owner[name] if owner is a dict) is `value` inside the block."""
    is_dict = isinstance(owner, dict)
    old = owner[name] if is_dict else getattr(owner, name)
    if is_dict:
        owner[name] = value
    else:
        setattr(owner, name, value)
    try:
        yield
    finally:
        if is_dict:
            owner[name] = old
        else:
            setattr(owner, name, old)


def _called_inside(cls) -> bool:
    """True when a frame of the current call stack is a method of an instance of `cls`."""
    frame = sys._getframe(2)
    while frame is not None:
        self = frame.f_locals.get("self")
        if self is not None and isinstance(self, cls):
            return True
        frame = frame.f_back
    return False


@contextlib.contextmanager
def without(owner, name: str, inside=None):
    """owner.name(x, ...) returns x inside the block (only when called from a method of an
    instance of class `inside`, if given). E.g. without(keras.ops, "relu", ResidualBlock)."""
    original = owner[name] if isinstance(owner, dict) else getattr(owner, name)

    def identity(x, *args, **kwargs):
        if inside is None or _called_inside(inside):
            return x
        return original(x, *args, **kwargs)

    with replaced(owner, name, identity):
        yield


@contextlib.contextmanager
def bypassed(*layers):
    """Every given Keras layer instance returns its first input inside the block."""
    for layer in layers:
        layer.call = lambda x, *args, **kwargs: x
    try:
        yield
    finally:
        for layer in layers:
            del layer.call


# ---------------------------------------------------------------- measuring

def relative_error(got, want) -> float:
    """max |got - want| / max |want| (want not all zero)."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = np.abs(want).max()
    assert scale > 0, "the reference is all zeros: nothing to compare"
    return float(np.abs(got - want).max() / scale)


@contextlib.contextmanager
def recorded_calls(*classes):
    """Yields a list that receives (layer, args, kwargs, output) for every call of a layer of
    `classes` made inside the block (nested calls included)."""
    calls = []
    originals = {cls: cls.__dict__["call"] for cls in classes}

    def recorder(original):
        def call(self, *args, **kwargs):
            out = original(self, *args, **kwargs)
            calls.append((self, args, kwargs, out))
            return out
        return call

    for cls, original in originals.items():
        cls.call = recorder(original)
    try:
        yield calls
    finally:
        for cls, original in originals.items():
            cls.call = original


def worst_call_error(calls, reference) -> float:
    """Largest relative_error of the recorded outputs against reference(layer, *args,
    training=...); outputs that are tuples are compared element by element."""
    assert calls, "no call was recorded"
    worst = 0.0
    for layer, args, kwargs, out in calls:
        want = reference(layer, *args, training=kwargs.get("training"))
        outs, wants = (out, want) if isinstance(out, (tuple, list)) else ((out,), (want,))
        for o, w in zip(outs, wants):
            worst = max(worst, relative_error(o, w))
    return worst


# ---------------------------------------------------------------- reference pieces

def conv2d(x, kernel, bias=None, strides: int = 1, padding="SAME"):
    """Raw tf.nn.conv2d (+ bias) in float64: x [B, H, W, Cin], kernel [k, k, Cin, Cout];
    padding "SAME" | "VALID" | an int p (p zeros on every side, then VALID)."""
    x = tf.cast(x, tf.float64)
    if isinstance(padding, int):
        x = tf.pad(x, [[0, 0], [padding, padding], [padding, padding], [0, 0]])
        padding = "VALID"
    y = tf.nn.conv2d(x, tf.cast(kernel, tf.float64), strides, padding)
    return (y if bias is None else y + tf.cast(bias, tf.float64)).numpy()


def deconv2d(x, kernel, bias=None, strides: int = 2):
    """Raw SAME tf.nn.conv2d_transpose (+ bias) in float64: kernel [k, k, Cout, Cin], output
    [B, H * s, W * s, Cout] (Keras' Conv2DTranspose "same")."""
    x = tf.cast(x, tf.float64)
    b, h, w, _ = x.shape
    shape = [b, h * strides, w * strides, kernel.shape[2]]
    y = tf.nn.conv2d_transpose(x, tf.cast(kernel, tf.float64), shape, strides, "SAME")
    return (y if bias is None else y + tf.cast(bias, tf.float64)).numpy()


def batch_norm_reference(x, bn, training) -> np.ndarray:
    """tpgan_tf.core.layers.BatchNorm by hand (numpy, float64): the batch's own moments in
    "batch_stats" mode or when training, the moving averages otherwise; then gamma, beta."""
    x = np.asarray(x, np.float64)
    if bn.bn_mode == "batch_stats" or training:
        mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    else:
        mean, var = bn.moving_mean.numpy(), bn.moving_variance.numpy()
    return (x - mean) / np.sqrt(var + bn.epsilon) * bn.gamma.numpy() + bn.beta.numpy()


def lrelu(x, slope: float = 0.2) -> np.ndarray:
    x = np.asarray(x, np.float64)
    return np.maximum(x, slope * x)


def relu(x) -> np.ndarray:
    return np.maximum(np.asarray(x, np.float64), 0.0)


def elu(x) -> np.ndarray:
    x = np.asarray(x, np.float64)
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))
