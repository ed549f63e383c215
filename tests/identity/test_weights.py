"""Light-CNN-29 weights (tpgan_tf/identity/weights.py, tpgan spec 4.4): the three formats (.h5,
DeepFace168.pickle, the public PyTorch checkpoint through the converter), their errors, and
the converted network against a PyTorch reference."""
from __future__ import annotations

import pickle
import sys

import h5py
import numpy as np
import pytest

from tpgan_tf.identity import lightcnn, weights

TINY = 0.125  # pool4 channels scaled(128, 0.125) = 16, feature 32
SEED = 1234
# Our name -> PyTorch module path, written out independently of lightcnn.TORCH_PREFIXES.
NAME_TO_TORCH = {
    "conv1": "conv1", "fc1": "fc",
    "conv2_1": "block1.0.conv1", "conv2_2": "block1.0.conv2",
    "conv2a": "group1.conv_a", "conv2": "group1.conv",
    "conv3_1": "block2.0.conv1", "conv3_2": "block2.0.conv2",
    "conv3_3": "block2.1.conv1", "conv3_4": "block2.1.conv2",
    "conv3a": "group2.conv_a", "conv3": "group2.conv",
    "conv4_1": "block3.0.conv1", "conv4_2": "block3.0.conv2",
    "conv4_3": "block3.1.conv1", "conv4_4": "block3.1.conv2",
    "conv4_5": "block3.2.conv1", "conv4_6": "block3.2.conv2",
    "conv4a": "group3.conv_a", "conv4": "group3.conv",
    "conv5_1": "block4.0.conv1", "conv5_2": "block4.0.conv2",
    "conv5_3": "block4.1.conv1", "conv5_4": "block4.1.conv2",
    "conv5_5": "block4.2.conv1", "conv5_6": "block4.2.conv2",
    "conv5_7": "block4.3.conv1", "conv5_8": "block4.3.conv2",
    "conv5a": "group4.conv_a", "conv5": "group4.conv",
}


def _random_weights(model, seed):
    """Random name -> (kernel, bias) for `model`, He-like scale so activations stay O(1)."""
    rng = np.random.default_rng(seed)
    out = {}
    for name in lightcnn.LAYER_NAMES:
        layer = model.get_layer(name)
        kshape, bshape = tuple(layer.kernel.shape), tuple(layer.bias.shape)
        fan_in = int(np.prod(kshape[:-1]))
        out[name] = (rng.normal(0, 0.8 / np.sqrt(fan_in), kshape).astype(np.float32),
                     rng.uniform(-0.05, 0.05, bshape).astype(np.float32))
    return out


@pytest.fixture(scope="module")
def full_model():
    """The real-size network, built once for the module (weights are loaded by each test)."""
    return lightcnn.build_lightcnn(1.0)


def test_h5_round_trip_is_exact(tmp_path):
    src = lightcnn.build_lightcnn(TINY)
    weights.set_weights_from_dict(src, _random_weights(src, SEED))
    path = tmp_path / "tiny.h5"
    weights.save_h5_weights(src, path)
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == weights.H5_FORMAT
        assert f.attrs["width"] == TINY
        assert sorted(f) == sorted(lightcnn.LAYER_NAMES)
        assert f["conv2_1/kernel"].shape == (3, 3, 6, 12)
    dst = lightcnn.build_lightcnn(TINY)
    weights.load_weights(dst, path)  # dispatch on .h5
    x = np.random.default_rng(0).random((2, 128, 128, 1), dtype=np.float32)
    for a, b in zip(src(x), dst(x)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_h5_bad_files_name_file_and_layer(tmp_path):
    model = lightcnn.build_lightcnn(TINY)
    good = tmp_path / "good.h5"
    weights.save_h5_weights(model, good)

    wrong = tmp_path / "wrong_shape.h5"
    weights.save_h5_weights(model, wrong)
    with h5py.File(wrong, "a") as f:
        del f["conv3_2/kernel"]
        f["conv3_2"].create_dataset("kernel", data=np.zeros((3, 3, 12, 20), np.float32))
    with pytest.raises(ValueError, match=r"wrong_shape\.h5.*'conv3_2'.*\(3, 3, 12, 20\)"):
        weights.load_h5_weights(model, wrong)

    missing = tmp_path / "missing.h5"
    weights.save_h5_weights(model, missing)
    with h5py.File(missing, "a") as f:
        del f["conv5a"]
    with pytest.raises(ValueError, match=r"missing\.h5.*no layer 'conv5a'"):
        weights.load_h5_weights(model, missing)

    # A file of another width fails on the first layer and says which width it has.
    with pytest.raises(ValueError, match=r"good\.h5.*'conv1'.*saved at width 0\.125"):
        weights.load_h5_weights(lightcnn.build_lightcnn(0.25), good)

    not_ours = tmp_path / "other.h5"
    with h5py.File(not_ours, "w") as f:
        f.attrs["format"] = "something else"
    with pytest.raises(ValueError, match=r"other\.h5.*format"):
        weights.load_h5_weights(model, not_ours)
    with pytest.raises(ValueError, match=r"weights\.npz.*unknown"):
        weights.load_weights(model, tmp_path / "weights.npz")
    with pytest.raises(FileNotFoundError, match="nope.h5"):
        weights.load_weights(model, tmp_path / "nope.h5")


def test_pickle_bad_files_name_file_and_layer(tmp_path):
    model = lightcnn.build_lightcnn(TINY)
    table = {k: list(v) for k, v in _random_weights(model, SEED).items()}
    del table["conv4_6"]
    path = tmp_path / "DeepFace168.pickle"
    with open(path, "wb") as f:
        pickle.dump(table, f, protocol=2)
    with pytest.raises(ValueError, match=r"DeepFace168\.pickle.*no layer 'conv4_6'"):
        weights.load_pickle_weights(model, path)
    table["conv4_6"] = [np.zeros((3, 3, 24, 40), np.float32), np.zeros(40, np.float32)]
    with open(path, "wb") as f:
        pickle.dump(table, f, protocol=2)
    with pytest.raises(ValueError, match=r"DeepFace168\.pickle.*'conv4_6'.*\(3, 3, 24, 40\)"):
        weights.load_pickle_weights(model, path)


def test_state_dict_conversion_layouts():
    """OIHW -> HWIO, fc [out, in] -> [in, out], `module.` stripped, fc2 ignored (numpy, no torch)."""
    rng = np.random.default_rng(SEED)
    sd = {}
    for name, prefix in NAME_TO_TORCH.items():
        shape = (6, 4) if name == "fc1" else (6, 2, 3, 5)  # arbitrary, non-square sizes
        sd[f"module.{prefix}.filter.weight"] = rng.normal(size=shape).astype(np.float32)
        sd[f"module.{prefix}.filter.bias"] = rng.normal(size=6).astype(np.float32)
    sd["module.fc2.weight"] = np.zeros((10, 3), np.float32)
    out = weights.torch_state_dict_to_weights(sd)
    assert set(out) == set(lightcnn.LAYER_NAMES)
    w = sd["module.group2.conv_a.filter.weight"]  # conv3a
    kernel, bias = out["conv3a"]
    assert kernel.shape == (3, 5, 2, 6)
    assert kernel[2, 4, 1, 5] == w[5, 1, 2, 4]
    np.testing.assert_array_equal(kernel, np.einsum("oihw->hwio", w))
    np.testing.assert_array_equal(bias, sd["module.group2.conv_a.filter.bias"])
    np.testing.assert_array_equal(out["fc1"][0], sd["module.fc.filter.weight"].T)
    np.testing.assert_array_equal(out["conv4_5"][0],
                                  np.einsum("oihw->hwio", sd["module.block3.2.conv1.filter.weight"]))
    del sd["module.block4.3.conv2.filter.bias"]
    with pytest.raises(ValueError, match=r"ckpt\.pth.*block4\.3\.conv2\.filter\.bias.*conv5_8"):
        weights.torch_state_dict_to_weights(sd, source="ckpt.pth")


# ------------------------------------------------------------------- against PyTorch


@pytest.fixture(scope="module")
def torch_reference(tmp_path_factory):
    """A random PyTorch LightCNN-29 v1, its public-format checkpoint, inputs and eval outputs."""
    torch = pytest.importorskip("torch", reason="torch is needed for the PyTorch comparison")
    nn = torch.nn

    class MFMUnit(nn.Module):
        """Conv (type 1) or linear (type 0) to 2*out, then max of the two channel halves."""

        def __init__(self, cin, cout, kernel=3, padding=1, type=1):  # noqa: A002
            super().__init__()
            self.out_channels = cout
            if type == 1:
                self.filter = nn.Conv2d(cin, 2 * cout, kernel, stride=1, padding=padding)
            else:
                self.filter = nn.Linear(cin, 2 * cout)

        def forward(self, x):
            a, b = torch.split(self.filter(x), self.out_channels, dim=1)
            return torch.max(a, b)

    class ResPair(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.conv1 = MFMUnit(c, c)
            self.conv2 = MFMUnit(c, c)

        def forward(self, x):
            return x + self.conv2(self.conv1(x))

    class Group(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.conv_a = MFMUnit(cin, cin, kernel=1, padding=0)
            self.conv = MFMUnit(cin, cout)

        def forward(self, x):
            return self.conv(self.conv_a(x))

    class LightCNN29(nn.Module):
        def __init__(self, num_classes=10):
            super().__init__()
            self.conv1 = MFMUnit(1, 48, kernel=5, padding=2)
            self.pool1 = nn.MaxPool2d(2, 2, ceil_mode=True)
            self.block1 = nn.Sequential(*[ResPair(48) for _ in range(1)])
            self.group1 = Group(48, 96)
            self.pool2 = nn.MaxPool2d(2, 2, ceil_mode=True)
            self.block2 = nn.Sequential(*[ResPair(96) for _ in range(2)])
            self.group2 = Group(96, 192)
            self.pool3 = nn.MaxPool2d(2, 2, ceil_mode=True)
            self.block3 = nn.Sequential(*[ResPair(192) for _ in range(3)])
            self.group3 = Group(192, 128)
            self.block4 = nn.Sequential(*[ResPair(128) for _ in range(4)])
            self.group4 = Group(128, 128)
            self.pool4 = nn.MaxPool2d(2, 2, ceil_mode=True)
            self.fc = MFMUnit(8 * 8 * 128, 256, type=0)
            self.fc2 = nn.Linear(256, num_classes)

        def forward(self, x):
            x = self.pool1(self.conv1(x))
            x = self.pool2(self.group1(self.block1(x)))
            x = self.pool3(self.group2(self.block2(x)))
            x = self.group3(self.block3(x))
            pool4 = self.pool4(self.group4(self.block4(x)))
            fc = self.fc(pool4.reshape(pool4.shape[0], -1))
            fc = nn.functional.dropout(fc, training=self.training)
            return self.fc2(fc), fc, pool4

    torch.manual_seed(SEED)
    net = LightCNN29()
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                fan_in = module.weight[0].numel()
                module.weight.normal_(0.0, 0.8 / fan_in ** 0.5)  # keeps pool4 and fc at O(1)
                module.bias.uniform_(-0.05, 0.05)
    net.eval()
    x = np.random.default_rng(SEED).random((2, 128, 128, 1), dtype=np.float32)
    with torch.no_grad():
        _, fc, pool4 = net(torch.from_numpy(x.transpose(0, 3, 1, 2).copy()))
    state_dict = net.state_dict()
    ckpt = tmp_path_factory.mktemp("lightcnn") / "LightCNN_29Layers_checkpoint.pth.tar"
    torch.save({"epoch": 1, "state_dict": {"module." + k: v for k, v in state_dict.items()}}, ckpt)
    return {"x": x, "fc": fc.numpy(), "pool4": pool4.numpy().transpose(0, 2, 3, 1),
            "ckpt": ckpt, "state_dict": {k: v.numpy() for k, v in state_dict.items()}}


def _assert_matches_torch(model, ref):
    pool4, feature = (np.asarray(t) for t in model(ref["x"]))
    # The reference must be non-trivial for the comparison to mean anything.
    assert 0.1 < np.abs(ref["fc"]).mean() < 100 and np.abs(ref["pool4"]).mean() > 0.1
    assert np.abs(pool4 - ref["pool4"]).max() < 1e-4
    assert np.abs(feature - ref["fc"]).max() < 1e-4


def test_converted_checkpoint_matches_pytorch(full_model, torch_reference, tmp_path):
    out = tmp_path / "sub" / "lightcnn29.h5"
    summary = weights.convert_torch_checkpoint(torch_reference["ckpt"], out)
    assert "30 layers" in summary and "12,573,280" in summary and str(out) in summary
    weights.load_weights(full_model, out)
    _assert_matches_torch(full_model, torch_reference)


def test_bare_state_dict_checkpoint_is_accepted(torch_reference, tmp_path):
    import torch

    ckpt = tmp_path / "bare.pth"
    torch.save({k: torch.from_numpy(v) for k, v in torch_reference["state_dict"].items()}, ckpt)
    weights.convert_torch_checkpoint(ckpt, tmp_path / "bare.h5")
    with h5py.File(tmp_path / "bare.h5", "r") as f:
        np.testing.assert_array_equal(f["conv5/bias"][()],
                                      torch_reference["state_dict"]["group4.conv.filter.bias"])


def test_deepface_pickle_matches_pytorch(full_model, torch_reference, tmp_path):
    # Written by hand in the DeepFace layout: HWIO conv kernels, fc1 kernel 8192 x 512.
    sd = torch_reference["state_dict"]
    deepface = {}
    for name, prefix in NAME_TO_TORCH.items():
        w, b = sd[prefix + ".filter.weight"], sd[prefix + ".filter.bias"]
        kernel = w.T if w.ndim == 2 else w.transpose(2, 3, 1, 0)
        deepface[name] = [np.ascontiguousarray(kernel), b]
    deepface["fc2"] = [sd["fc2.weight"].T, sd["fc2.bias"]]  # extra layers are ignored
    assert deepface["fc1"][0].shape == (8192, 512)
    path = tmp_path / "DeepFace168.pickle"
    with open(path, "wb") as f:
        pickle.dump(deepface, f, protocol=2)
    weights.load_weights(full_model, path)
    _assert_matches_torch(full_model, torch_reference)


def test_converter_without_torch_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    with pytest.raises(ImportError, match=r"pip install torch \(optional extra 'convert'\)"):
        weights.convert_torch_checkpoint(tmp_path / "x.pth", tmp_path / "x.h5")


def test_load_lightcnn_reads_the_width_and_says_how_to_get_weights(tmp_path):
    """(The load_lightcnn checks were part of test_evaluation's missing-weights test.)"""
    with pytest.raises(ValueError, match="convert_lightcnn"):
        weights.load_lightcnn(None)
    with pytest.raises(FileNotFoundError, match="does not exist.*DeepFace168"):
        weights.load_lightcnn(str(tmp_path / "nope.h5"))
    src = lightcnn.build_lightcnn(TINY)
    weights.set_weights_from_dict(src, _random_weights(src, SEED))
    path = str(tmp_path / "tiny.h5")
    weights.save_h5_weights(src, path)
    assert weights.width_of(path) == TINY  # from the .h5's width attribute
    assert weights.width_of(path, 0.5) == 0.5 and weights.width_of("x.pickle") == 1.0
    model = weights.load_lightcnn(path)
    assert model.lightcnn_width == TINY and model.trainable_weights == []
    for name, (kernel, bias) in weights.get_weights_dict(src).items():
        got_kernel, got_bias = weights.get_weights_dict(model)[name]
        np.testing.assert_array_equal(got_kernel, kernel)
        np.testing.assert_array_equal(got_bias, bias)
