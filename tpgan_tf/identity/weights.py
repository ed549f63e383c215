"""Light-CNN-29 weights: the loaders and the converter.

Weights come from one of
  * the original TP-GAN `DeepFace168.pickle` (Python-2 pickle: name -> [kernel HWIO, bias]),
  * our own .h5 (see `save_h5_weights`), e.g. written by experiments/convert_lightcnn.py from
    the public PyTorch checkpoint (`torch_state_dict_to_weights`), or by
    experiments/pretrain_lightcnn.py.
Nothing is downloaded: every loader takes a local file and says how to get one when it is
missing (`WEIGHTS_HELP`).
"""
from __future__ import annotations

import os
import pickle
from typing import Mapping

import h5py
import keras
import numpy as np

from tpgan_tf.identity.lightcnn import LAYER_NAMES, TORCH_PREFIXES, build_lightcnn

H5_FORMAT = "tpgan_tf.lightcnn29.v1"
WEIGHTS_HELP = (
    "Light-CNN-29 weights are a local file: either TP-GAN's DeepFace168.pickle (from the "
    "original TP-GAN repository), or a tpgan_tf .h5 made from the public LightCNN-29 v1 PyTorch "
    "checkpoint with `python -m experiments.convert_lightcnn "
    "--checkpoint=LightCNN_29Layers_checkpoint.pth.tar --output=weights/lightcnn29.h5`, or one "
    "trained on your own records with `python -m experiments.pretrain_lightcnn "
    "--data_dir=DATA --output=lightcnn29.h5` (README: 'Identity network (Light-CNN-29)').")


def _expected_shapes(model: keras.Model) -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
    """Layer name -> (kernel shape, bias shape) of the built model."""
    out = {}
    for name in LAYER_NAMES:
        layer = model.get_layer(name)
        out[name] = (tuple(layer.kernel.shape), tuple(layer.bias.shape))
    return out


def set_weights_from_dict(model: keras.Model, weights: Mapping[str, tuple[np.ndarray, np.ndarray]],
                          source: str = "<weights dict>") -> None:
    """Assigns `weights[name] = (kernel, bias)` to every layer of LAYER_NAMES.

    Kernels are HWIO for convs and [in, out] for fc1 (NCHW flatten order of the input).
    Extra entries (e.g. a classifier) are ignored. Raises ValueError naming `source` and the
    layer when a layer is missing or has the wrong shape; nothing is assigned in that case.
    """
    expected = _expected_shapes(model)
    checked = {}
    for name, (kshape, bshape) in expected.items():
        if name not in weights:
            raise ValueError(f"{source}: Light-CNN weights have no layer {name!r} "
                             f"(expected kernel {kshape}, bias {bshape}); found layers "
                             f"{sorted(weights)}")
        entry = weights[name]
        if len(entry) != 2:
            raise ValueError(f"{source}: layer {name!r} should be [kernel, bias], got "
                             f"{len(entry)} arrays")
        kernel = np.asarray(entry[0], dtype=np.float32)
        bias = np.asarray(entry[1], dtype=np.float32)
        if kernel.shape != kshape or bias.shape != bshape:
            width = getattr(model, "lightcnn_width", None)
            raise ValueError(f"{source}: layer {name!r} has kernel {kernel.shape} and bias "
                             f"{bias.shape}, the model (width {width}) expects kernel {kshape} "
                             f"and bias {bshape}")
        checked[name] = (kernel, bias)
    for name, (kernel, bias) in checked.items():
        model.get_layer(name).set_weights([kernel, bias])


def get_weights_dict(model: keras.Model) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The model's weights as name -> (kernel, bias) numpy arrays (inverse of set_weights_from_dict)."""
    return {name: tuple(np.asarray(w) for w in model.get_layer(name).get_weights())
            for name in LAYER_NAMES}


def _check_file(path) -> str:
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Light-CNN weight file {path} does not exist. {WEIGHTS_HELP}")
    return path


def load_pickle_weights(model: keras.Model, path) -> None:
    """Loads the original TP-GAN `DeepFace168.pickle` (tpgan spec 4.4).

    A Python-2 pickle of {layer name: [kernel HWIO, bias]}, fc1 kernel 8192 x 512 in NCHW
    flatten order; read with encoding='latin1'.
    """
    path = _check_file(path)
    try:
        with open(path, "rb") as f:
            data = pickle.load(f, encoding="latin1")
    except Exception as e:  # unpickling errors come in many types
        raise ValueError(f"{path}: cannot read as a Light-CNN pickle: {e}") from e
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a dict layer name -> [kernel, bias], got "
                         f"{type(data).__name__}")
    set_weights_from_dict(model, data, source=path)


def save_h5_weights(model: keras.Model, path) -> None:
    """Writes our .h5 format: one group per layer (datasets `kernel`, `bias`), root attributes
    `format` = H5_FORMAT and `width`. Kernels are HWIO, fc1 [in, out] in NCHW flatten order."""
    path = os.fspath(path)
    with h5py.File(path, "w") as f:
        f.attrs["format"] = H5_FORMAT
        f.attrs["width"] = float(getattr(model, "lightcnn_width", 1.0))
        for name, (kernel, bias) in get_weights_dict(model).items():
            group = f.create_group(name)
            group.create_dataset("kernel", data=kernel.astype(np.float32))
            group.create_dataset("bias", data=bias.astype(np.float32))


def load_h5_weights(model: keras.Model, path) -> None:
    """Loads a file written by `save_h5_weights`; checks format, width and every shape."""
    path = _check_file(path)
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ValueError(f"{path}: not an HDF5 file: {e}") from e
    with f:
        fmt = f.attrs.get("format")
        if isinstance(fmt, bytes):
            fmt = fmt.decode()
        if fmt != H5_FORMAT:
            raise ValueError(f"{path}: format attribute is {fmt!r}, expected {H5_FORMAT!r}")
        file_width = float(f.attrs.get("width", np.nan))
        model_width = getattr(model, "lightcnn_width", None)
        weights = {}
        for name in f:
            group = f[name]
            if not isinstance(group, h5py.Group) or "kernel" not in group or "bias" not in group:
                raise ValueError(f"{path}: layer {name!r} needs datasets 'kernel' and 'bias'")
            weights[name] = (group["kernel"][()], group["bias"][()])
    try:
        set_weights_from_dict(model, weights, source=path)
    except ValueError as e:
        if model_width is not None and file_width != model_width:
            raise ValueError(f"{e} (the file was saved at width {file_width})") from None
        raise


def load_weights(model: keras.Model, path) -> None:
    """Loads Light-CNN weights, choosing the reader by suffix: .pickle/.pkl or .h5/.hdf5."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix in (".pickle", ".pkl"):
        load_pickle_weights(model, path)
    elif suffix in (".h5", ".hdf5"):
        load_h5_weights(model, path)
    else:
        raise ValueError(f"{os.fspath(path)}: unknown Light-CNN weight file type {suffix!r}; "
                         "use .pickle/.pkl (TP-GAN DeepFace) or .h5 (tpgan_tf)")


def _to_numpy(value) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch.Tensor; avoid importing torch here
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float32)


def torch_state_dict_to_weights(state_dict: Mapping, source: str = "state_dict"
                                ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Public PyTorch LightCNN-29 v1 state_dict -> {our layer name: (kernel, bias)}.

    Conv weights OIHW -> HWIO; fc weight [out, in] -> [in, out] (its input index is already
    the NCHW flatten order). A DataParallel `module.` prefix is stripped; `fc2.*` and other
    extra keys are ignored. Raises ValueError naming `source` and the missing key.
    """
    sd = {(k[len("module."):] if k.startswith("module.") else k): v for k, v in state_dict.items()}
    out = {}
    for name, prefix in TORCH_PREFIXES.items():
        arrays = []
        for part in ("weight", "bias"):
            key = f"{prefix}.filter.{part}"
            if key not in sd:
                raise ValueError(f"{source}: missing key {key!r} (for layer {name!r})")
            arrays.append(_to_numpy(sd[key]))
        weight, bias = arrays
        if name == "fc1":
            if weight.ndim != 2:
                raise ValueError(f"{source}: {prefix}.filter.weight should be 2-D, got {weight.shape}")
            kernel = weight.T
        else:
            if weight.ndim != 4:
                raise ValueError(f"{source}: {prefix}.filter.weight should be 4-D OIHW, got "
                                 f"{weight.shape}")
            kernel = weight.transpose(2, 3, 1, 0)
        out[name] = (np.ascontiguousarray(kernel), bias)
    return out


def width_of(path: str, width: float | None = None) -> float:
    """The Light-CNN width to build for a weight file: `width` if given, else the .h5's
    `width` attribute, else 1.0 (the pickle is always the full network)."""
    if width is not None:
        return float(width)
    if os.path.splitext(path)[1].lower() in (".h5", ".hdf5"):
        try:
            with h5py.File(path, "r") as f:
                return float(f.attrs.get("width", 1.0))
        except OSError as e:
            raise ValueError(f"{path}: not an HDF5 file: {e}") from e
    return 1.0


def load_lightcnn(path: str | None, width: float | None = None) -> keras.Model:
    """The frozen Light-CNN built at the width of `path` (or `width`) with its weights.
    Errors (no path, missing file, wrong shapes) name the file and say how to get weights."""
    if not path:
        raise ValueError(f"no Light-CNN weight file given. {WEIGHTS_HELP}")
    _check_file(path)
    model = build_lightcnn(width_of(path, width))
    load_weights(model, path)
    return model


# ---------------------------------------------------------------- the PyTorch converter

def _import_torch():
    try:
        import torch  # noqa: PLC0415  (optional dependency, imported only when converting)
    except ImportError as e:
        raise ImportError("converting a PyTorch Light-CNN checkpoint needs torch: "
                          "pip install torch (optional extra 'convert')") from e
    return torch


def _read_state_dict(checkpoint_path: str) -> dict:
    """The state_dict inside a checkpoint file ({'state_dict': ...} or a bare state_dict)."""
    torch = _import_torch()
    if not os.path.isfile(checkpoint_path):
        raise FileNotFoundError(f"Light-CNN checkpoint {checkpoint_path} does not exist")
    try:
        # weights_only=False: the public file also pickles plain Python values (epoch, prec1...).
        data = torch.load(checkpoint_path, map_location="cpu", weights_only=False)
    except Exception as e:  # torch raises many types for a corrupt or non-torch file
        raise ValueError(f"{checkpoint_path}: cannot read as a PyTorch checkpoint: {e}") from e
    if isinstance(data, dict) and "state_dict" in data:
        data = data["state_dict"]
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{checkpoint_path}: expected a state_dict or a dict with key "
                         f"'state_dict', got {type(data).__name__}")
    return data


def convert_torch_checkpoint(checkpoint_path, output_path, width: float = 1.0) -> str:
    """Reads the PyTorch checkpoint, writes our .h5 at `output_path`, returns a one-line summary.

    Raises ValueError naming the checkpoint and the key/layer when something is missing or has
    the wrong shape (the public checkpoint matches width 1.0).
    """
    checkpoint_path, output_path = os.fspath(checkpoint_path), os.fspath(output_path)
    state_dict = _read_state_dict(checkpoint_path)
    weights = torch_state_dict_to_weights(state_dict, source=checkpoint_path)
    model = build_lightcnn(width=width)
    set_weights_from_dict(model, weights, source=checkpoint_path)
    out_dir = os.path.dirname(output_path)
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
    save_h5_weights(model, output_path)
    n_params = sum(int(k.size) + int(b.size) for k, b in weights.values())
    return (f"converted {checkpoint_path} -> {output_path}: {len(weights)} layers, "
            f"{n_params:,} parameters, feature dim {model.outputs[1].shape[-1]}")
