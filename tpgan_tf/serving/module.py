"""A model's serving module: its SavedModel signatures, apart from training (in the manner of
TF Model Garden's ExportModule).

Each model's serving.py subclasses `ServingModule`: it lists its endpoint methods in
ENDPOINTS, maps signature names to them in SIGNATURES, says each method's input specs in
`spec(name)`, names the inputs and single outputs of each signature for clients
(SIGNATURE_INPUTS, SIGNATURE_OUTPUTS), gives valid example requests (`examples`) and the
metadata a client needs (`export_info`: alignment template, crop rule, sizes). This base
traces every method once and hands tpgan_tf/serving/export.py the {signature: (function,
specs)} it exports; the same traced functions serve the Python API, evaluation and the
photo tools.
"""
from __future__ import annotations

from typing import ClassVar, Mapping

import tensorflow as tf


class ServingModule:
    """Base of a model's serving class (module doc)."""

    ENDPOINTS: ClassVar[dict] = {}    # endpoint method name -> the kind of input it takes
    SIGNATURES: ClassVar[dict] = {}   # signature name -> endpoint method (serving_default
    #                                   first: ExportArchive's alias rule)
    # {signature: {input name: (dtype name, shape of one instance)}} for the serving client
    # (tests check it against a real export).
    SIGNATURE_INPUTS: ClassVar[Mapping[str, Mapping[str, tuple]]] = {}
    # {signature: [output name]} of the signatures with ONE output (TF Serving's REST API
    # answers those with bare values, without the name).
    SIGNATURE_OUTPUTS: ClassVar[Mapping[str, list]] = {}

    @classmethod
    def from_networks(cls, networks: Mapping, config) -> "ServingModule":
        """The module of a model's built (restored) networks and its config (the `export`
        section holds export options)."""
        raise NotImplementedError(f"{cls.__name__} does not say how it is built")

    @classmethod
    def for_task(cls, task) -> "ServingModule":
        """`from_networks` of a task's networks, made once per task and network set, so that
        every caller (export, evaluation, Python API) shares the traced functions: each
        trace of a network costs seconds to minutes."""
        key = tuple(id(n) for n in task.networks.values())
        cached = task.__dict__.get("_serving_module")
        if cached is None or cached[0] != key or type(cached[1]) is not cls:
            cached = (key, cls.from_networks(task.networks, task.config))
            task.__dict__["_serving_module"] = cached
        return cached[1]

    @classmethod
    def examples(cls, config, batch_size: int, seed: int = 0) -> dict[str, dict]:
        """{signature: {input name: numpy array of batch_size instances}}: valid requests
        for every signature (benchmarks and export tests)."""
        raise NotImplementedError(f"{cls.__name__} gives no example requests")

    def export_info(self) -> dict:
        """What a client needs to know beyond the signatures (export_info.json)."""
        return {}

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
