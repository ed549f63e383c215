"""Light-CNN pretraining on pair records (tpgan_tf/identity/pretrain.py) on the shared small
records (tests/conftest.py `pair_records`): the pairs it trains on, the initialisation, a
two-step run that writes a loadable .h5."""
import os

import numpy as np

from tpgan_tf.data.pair_records import decode_faces
from tpgan_tf.data.pipeline import read_records, split_pattern
from tpgan_tf.identity import pretrain
from tpgan_tf.identity.lightcnn import LAYER_NAMES, build_lightcnn
from tpgan_tf.identity.weights import get_weights_dict, load_lightcnn


def test_face_pairs_are_mirrored_to_positive_yaw_and_gray_pairs_stack_them(pair_records):
    out, _, _, _ = pair_records
    pattern = split_pattern(out, "train")
    assert pretrain.largest_subject(pattern) == 2  # subject 3 is the test split
    batch = next(iter(pretrain.face_pairs(pattern, 64, train=False)))
    raw = next(iter(read_records(pattern, shuffle=False, deterministic=True).map(
        decode_faces).batch(64)))  # the same records in the same order, as stored
    flip = raw["yaw"].numpy() < 0
    assert flip.any() and not flip.all()
    for i in range(len(flip)):
        image = raw["profile"][i].numpy().astype(np.float32) / 256.0
        np.testing.assert_array_equal(batch["profile"][i].numpy(),
                                      image[:, ::-1] if flip[i] else image)
    gray, labels = pretrain.gray_pairs(batch)
    n = len(flip)
    assert gray.shape == (2 * n, 128, 128, 1) and labels.shape == (2 * n,)
    np.testing.assert_allclose(gray[n:].numpy()[..., 0], batch["frontal"].numpy().mean(-1),
                               atol=1e-6)
    np.testing.assert_array_equal(labels[:n].numpy(), labels[n:].numpy())


def test_reinitialise_makes_every_residual_pair_start_as_the_identity():
    lightcnn = build_lightcnn(0.125)
    pretrain.reinitialise_for_training(lightcnn)
    for name, (kernel, bias) in get_weights_dict(lightcnn).items():
        assert not bias.any(), name
        second_of_pair = "_" in name and int(name.split("_")[1]) % 2 == 0
        assert (not kernel.any()) == second_of_pair, name
    assert len(LAYER_NAMES) == 30


def test_a_short_run_writes_a_loadable_h5(pair_records, tmp_path):
    out, _, _, _ = pair_records
    path = str(tmp_path / "sub" / "lightcnn.h5")
    lines = []
    summary = pretrain.pretrain(out, path, width=0.125, num_steps=2, batch_size=4,
                                eval_examples=8, log_every=1, log=lines.append)
    assert os.path.exists(path) and summary["num_classes"] == 3 and summary["steps"] == 2
    assert np.isfinite(summary["final_loss"]) and lines[0].startswith("step 1/2 | loss ")
    for key in ("rank1_unseen_before", "rank1_unseen_after"):
        check = summary[key]  # subject 3 alone in the test split: rank-1 is trivially 1
        assert check["subjects"] == 1 and check["probes"] == 8 and check["rank1"] == 1.0
    model = load_lightcnn(path)
    assert model.lightcnn_width == 0.125 and model.trainable_weights == []
    # Deterministic: the same data and seed give the same weights; another seed does not.
    again, other = str(tmp_path / "again.h5"), str(tmp_path / "other.h5")
    for target, seed in ((again, 2017), (other, 5)):
        pretrain.pretrain(out, target, width=0.125, num_steps=2, batch_size=4,
                          eval_examples=0, log=lines.append, seed=seed)
    weights = [get_weights_dict(load_lightcnn(p)) for p in (path, again, other)]
    for name, (kernel, bias) in weights[0].items():
        np.testing.assert_array_equal(weights[1][name][0], kernel, err_msg=name)
        np.testing.assert_array_equal(weights[1][name][1], bias, err_msg=name)
    assert any(not np.array_equal(weights[2][name][0], kernel)
               for name, (kernel, _) in weights[0].items())
