"""The README's FSRNet CelebA recipe, run as written on a tiny CelebA look-alike built here:
`data_prep.build_face_records --source=celeba` on img_align_celeba-style images (178 x 218),
a 68-point landmark file in list_landmarks_align_celeba.txt's layout and Helen-11 label maps,
then `experiments.train --model=fsrnet --config=celeba` (68 + 11 priors, as the records) at a
tiny size, then `experiments.evaluate` of that run; the command with CelebA's 5-point
overrides on these 68-point records stops at once with one error naming both counts."""
from __future__ import annotations

import json
import os

import cv2
import numpy as np
import pytest

WIDTH, HEIGHT, TOP = 178, 218, 20  # img_align_celeba size; the face square starts 20 px down
# The recipe's preset at a tiny size (the `tiny` preset's sizes).
TINY = ["model.width=0.0625", "model.hourglass_depth=1", "model.num_stacks=1",
        "train.batch_size=2", "train.checkpoint_every=1", "train.log_every=1",
        "train.image_summary_every=1000"]


def write_celeba(root, n: int = 4) -> dict:
    """n synthetic faces laid out like CelebA: images/<6 digits>.jpg (178 x 218),
    list_landmarks_68.txt (count line, header, "<file> x1 y1 ... x68 y68") and
    parsing/<stem>.png (Helen-11 ids, image size). Returns the three paths."""
    from data_prep.synthetic.faces import face_record

    images, parsing = os.path.join(root, "img_align_celeba"), os.path.join(root, "parsing")
    os.makedirs(images), os.makedirs(parsing)
    scale = WIDTH / 128
    lines = [str(n), " ".join(f"x{i}_x x{i}_y" for i in range(68))]
    for i in range(n):
        rec = face_record(0, i, 0)
        canvas = np.full((HEIGHT, WIDTH, 3), 40, np.uint8)
        canvas[TOP:TOP + WIDTH] = cv2.resize(rec.image, (WIDTH, WIDTH),
                                             interpolation=cv2.INTER_CUBIC)
        labels = np.zeros((HEIGHT, WIDTH), np.uint8)
        labels[TOP:TOP + WIDTH] = cv2.resize(rec.labels, (WIDTH, WIDTH),
                                             interpolation=cv2.INTER_NEAREST)
        name = f"{i + 1:06d}"
        cv2.imwrite(os.path.join(images, name + ".jpg"), canvas[:, :, ::-1])
        cv2.imwrite(os.path.join(parsing, name + ".png"), labels)
        points = (np.asarray(rec.landmarks, np.float64) + 0.5) * scale - 0.5 + [0, TOP]
        lines.append(f"{name}.jpg " + " ".join(f"{v:.2f}" for v in points.reshape(-1)))
    landmarks = os.path.join(root, "list_landmarks_68.txt")
    with open(landmarks, "w") as f:
        f.write("\n".join(lines) + "\n")
    return {"celeba_images": images, "celeba_landmarks": landmarks, "celeba_parsing": parsing}


@pytest.fixture(scope="module")
def celeba_records(tmp_path_factory):
    from data_prep import build_face_records

    root = tmp_path_factory.mktemp("celeba")
    out = str(root / "records")
    manifest = build_face_records.build(out, "celeba", **write_celeba(str(root / "raw")),
                                        workers=1, show_progress=False)
    return out, manifest


def test_records_hold_the_68_points_of_the_landmark_file(celeba_records):
    from tpgan_tf.models.fsrnet.eval_data import records_landmarks

    out, manifest = celeba_records
    assert manifest["splits"]["train"]["examples"] == 4 and manifest["skipped"] == []
    assert records_landmarks(os.path.join(out, "train-*.tfrecord")) == (68, "ibug68")


def test_the_recipe_trains_and_evaluates_as_written(celeba_records, tmp_path):
    from experiments import evaluate
    from experiments.train import training_config
    from tpgan_tf.core import runner

    records, _ = celeba_records
    run = str(tmp_path / "fsrnet_celeba")
    cfg = training_config("fsrnet", "celeba", TINY)
    assert (cfg.priors.num_landmarks, cfg.priors.landmark_scheme, cfg.num_priors) == (
        68, "ibug68", 79)
    result = runner.train(cfg, records, run, num_iterations=1, log=lambda s: None)
    assert result.end_iteration == 1 and np.isfinite(result.last_values["g/loss"])
    saved = json.load(open(os.path.join(run, "config.json")))
    assert saved["name"] == "celeba" and saved["priors"]["num_landmarks"] == 68
    results, _ = evaluate.run(records, str(tmp_path / "eval"), model_dir=run,
                              overrides=["eval.split=train", "eval.batch_size=2"],
                              show_progress=False)
    [summary] = results["test_sets"].values()
    assert summary["examples"] == 4 and "nme" in summary
    assert not results["random_weights"]


def test_five_point_overrides_on_68_point_records_stop_with_one_clear_error(
        celeba_records, tmp_path):
    from experiments.train import training_config
    from tpgan_tf.core import runner

    records, _ = celeba_records
    cfg = training_config("fsrnet", "celeba", TINY + [
        "priors.num_landmarks=5", "priors.landmark_scheme=celeba5"])
    with pytest.raises(ValueError, match=r"hold 68 landmarks per face \(ibug68\), but config "
                       r"'celeba' predicts priors.num_landmarks=5 \(celeba5\); train with "
                       r"--override=priors.num_landmarks=68"):
        runner.train(cfg, records, str(tmp_path / "run"), num_iterations=1, log=lambda s: None)
    assert not (tmp_path / "run" / "config.json").exists()
