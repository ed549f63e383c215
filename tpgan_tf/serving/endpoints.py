"""Traced serving endpoints: the piece a model's serving class shares with the others.

A model's serving class (TP-GAN's Frontalizer, FSRNet's SuperResolver) lists its endpoint
methods in ENDPOINTS, maps signature names to them in SIGNATURES and says each method's input
specs in `spec(name)`; this mixin traces every method once and hands tpgan_tf/serving/export.py
the {signature: (function, specs)} it exports.
"""
from __future__ import annotations

import tensorflow as tf


class TracedEndpoints:
    """Mixin: `traced(name)` and `endpoints()` from ENDPOINTS, SIGNATURES and `spec(name)`."""

    ENDPOINTS: dict = {}    # endpoint method name -> the kind of input it takes
    SIGNATURES: dict = {}   # signature name -> endpoint method (serving_default first:
    #                         ExportArchive's alias rule)

    def spec(self, name: str) -> list:
        """The input specs (tf.TensorSpec, dynamic batch) of endpoint method `name`."""
        raise NotImplementedError

    def traced(self, name: str):
        """The tf.function of endpoint method `name`, traced once for its signature with a
        dynamic batch size; later calls of any batch size reuse that trace.

        No input_signature on purpose: tf.saved_model.save would retrace such a function in
        its save context (a second trace of the generator, minutes at paper size); a
        tf.function without one is saved with the traces it already has.
        """
        fns = self.__dict__.setdefault("_traced_fns", {})
        if name not in fns:
            if name not in self.ENDPOINTS:
                raise ValueError(f"unknown endpoint {name!r}; one of {sorted(self.ENDPOINTS)}")
            fn = tf.function(getattr(self, name), autograph=False)
            fn.get_concrete_function(*self.spec(name))
            fns[name] = fn
        return fns[name]

    def endpoints(self) -> dict:
        """{signature name: (traced function, input specs)} for tpgan_tf/serving/export.py."""
        return {sig: (self.traced(method), self.spec(method))
                for sig, method in self.SIGNATURES.items()}
