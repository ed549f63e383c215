"""The main job end to end on the built-in synthetic data (`make demo`; no downloads).

    python -m experiments.run_demo --workdir=runs/demo

Steps (each is skipped or resumed when its output already exists, so an interrupted demo
picks up where it stopped):
  1. render synthetic multi-view faces in the raw Multi-PIE layout   -> <workdir>/multipie
  2. build the TFRecord shards (alignment, patches, manifest)         -> <workdir>/records
  3. read one training batch through the input pipeline and save a picture of it
  4. build the models of the `demo` preset and print their sizes
  5. train the identity network (Light-CNN-29) on the training split -> <workdir>/lightcnn.h5
  6. train TP-GAN with the `demo` preset                             -> <workdir>/train
  7. export it for TF Serving                                         -> <workdir>/export/tpgan/1
  8. evaluate it by the paper's protocol (rank-1 per pose, L1/PSNR/SSIM) -> <workdir>/results
  9. frontalize a few held-out "photos" (raw images + landmarks)      -> <workdir>/frontalized
Steps 5-9 run the project's own command-line scripts, exactly as a user would.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from absl import app, flags, logging


def define_flags() -> None:
    """The command-line flags; defined only when this module runs as a script."""
    flags.DEFINE_string("workdir", "runs/demo", "Where every output of the demo goes.")
    flags.DEFINE_integer("subjects", 24, "Synthetic identities (the last quarter is the test split).")
    flags.DEFINE_integer("seed", 0, "Seed of the synthetic identities.")
    flags.DEFINE_integer("lightcnn_steps", 600, "Training steps of the identity network.")
    flags.DEFINE_integer("iterations", None, "TP-GAN iterations (default: the demo preset's).")
    flags.DEFINE_bool("data_only", False, "Stop after steps 1-4 (no training).")


FLAGS = flags.FLAGS

ILLUMINATIONS = (4, 7, 10)


def _step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def make_data(workdir: str, subjects: int, seed: int) -> str:
    """Steps 1-2. Returns the records folder."""
    from data_prep import build_tfrecords, synthetic

    root = os.path.join(workdir, "multipie")
    records = os.path.join(workdir, "records")
    _step("1. synthetic multi-view faces (raw Multi-PIE layout)")
    if os.path.exists(os.path.join(root, "landmarks.csv")):
        print(f"already there: {root}")
    else:
        summary = synthetic.generate(root, subjects, illuminations=ILLUMINATIONS, seed=seed)
        print(f"{summary['images']} images of {subjects} identities in {root} "
              f"({summary['images_per_second']:.0f} images/s)")
    _step("2. TFRecords: alignment, patches, shards, manifest")
    test_from = subjects - max(1, subjects // 4) + 1
    manifest = build_tfrecords.build(records, multipie_root=root, test_subjects_from=test_from)
    for split, info in manifest["splits"].items():
        print(f"{split}: {info['examples']} pairs in {len(info['shards'])} shards")
    print(f"skipped inputs: {len(manifest['skipped'])}; manifest: "
          f"{os.path.join(records, 'manifest.json')}")
    return records


def show_batch(records: str, workdir: str) -> str:
    """Step 3: one batch through the input pipeline, saved as a picture sheet."""
    import cv2
    import numpy as np

    from tpgan_tf.models.tpgan.inputs import make_dataset

    _step("3. input pipeline: one training batch")
    batch = next(iter(make_dataset(os.path.join(records, "train-*.tfrecord"), 10, seed=0)))
    for key in ("image", "eye_left", "nose", "mouth", "frontal", "label", "yaw"):
        print(f"  {key:<10} {tuple(batch[key].shape)} {batch[key].dtype.name}")
    columns = [np.concatenate([batch["image"][i], batch["frontal"][i]], axis=0)
               for i in range(batch["image"].shape[0])]
    sheet = (np.concatenate(columns, axis=1) * 256).astype(np.uint8)
    path = os.path.join(workdir, "batch.png")
    cv2.imwrite(path, cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    print(f"profiles (mirrored to face right) over their frontals: {path}")
    return path


def show_models() -> dict:
    """Step 4: the demo preset's models and their sizes."""
    from experiments.model_summary import parameter_counts

    _step("4. TP-GAN models of the `demo` preset")
    counts, _, _ = parameter_counts("tpgan", "demo")
    print(json.dumps(counts))
    return counts


def _run(*args: str) -> None:
    """Runs `python -m <args>` and stops the demo if it fails."""
    command = [sys.executable, "-m", *args]
    print("$ " + " ".join(command[1:]), flush=True)
    code = subprocess.run(command).returncode
    if code != 0:  # the step printed its own error; no traceback of ours on top
        from experiments import common

        common.fail(RuntimeError(f"step `python -m {args[0]}` failed (exit code {code}); "
                                 f"see its message above"), code)


def pick_photos(workdir: str, count: int = 6) -> str:
    """Copies a few raw test images of different poses (with their landmarks) to a folder, as
    stand-ins for a user's photos. Returns the folder."""
    from tpgan_tf.faces.landmarks import read_landmark_csv, write_landmark_csv

    root = os.path.join(workdir, "multipie")
    photos = os.path.join(workdir, "photos")
    points = read_landmark_csv(os.path.join(root, "landmarks.csv"))
    subjects = sorted({int(p.split("/")[3]) for p in points})
    last = f"{subjects[-1]:03d}"
    wanted = ("24_0", "01_0", "19_0", "05_0", "13_0", "12_0")[:count]
    chosen = {}
    for rel in sorted(points):
        parts = rel.split("/")
        if parts[3] == last and parts[5] in wanted and parts[5] not in chosen:
            chosen[parts[5]] = rel
    os.makedirs(photos, exist_ok=True)
    mapping = {}
    for rel in chosen.values():
        name = rel.rsplit("/", 1)[1]
        shutil.copy(os.path.join(root, *rel.split("/")), os.path.join(photos, name))
        mapping[name] = points[rel]
    write_landmark_csv(os.path.join(photos, "landmarks.csv"), mapping)
    return photos


def train_and_serve(workdir: str, records: str) -> str:
    """Steps 5-9. Returns the path of the results page."""
    from tpgan_tf.core.config import get_config

    cfg = get_config("demo")
    lightcnn = os.path.join(workdir, "lightcnn.h5")
    model_dir = os.path.join(workdir, "train")
    export_base = os.path.join(workdir, "export")
    results = os.path.join(workdir, "results")

    _step("5. identity network: Light-CNN-29 trained as a subject classifier")
    if os.path.exists(lightcnn):
        print(f"already there: {lightcnn}")
    else:
        _run("experiments.pretrain_lightcnn", f"--data_dir={records}", f"--output={lightcnn}",
             f"--width={cfg.model.lightcnn_width}", f"--num_steps={FLAGS.lightcnn_steps}")

    _step("6. TP-GAN training, `demo` preset (resumes from its last checkpoint)")
    iterations = [f"--num_iterations={FLAGS.iterations}"] if FLAGS.iterations else []
    _run("experiments.train", "--config=demo", f"--data_dir={records}",
         f"--model_dir={model_dir}", f"--lightcnn_weights={lightcnn}", *iterations)

    _step("7. export for TF Serving")
    version_dir = os.path.join(export_base, "tpgan", "1")
    if os.path.exists(version_dir):
        shutil.rmtree(version_dir)  # always export the latest checkpoint
    _run("experiments.export", f"--model_dir={model_dir}", f"--export_base={export_base}",
         "--model_name=tpgan", "--version=1")

    _step("8. evaluation by the paper's protocol")
    _run("experiments.evaluate", f"--data_dir={records}", f"--model_dir={model_dir}",
         f"--lightcnn_weights={lightcnn}", f"--output_dir={results}")

    _step("9. frontalize photos with the exported SavedModel")
    photos = pick_photos(workdir)
    _run("experiments.frontalize", f"--input={photos}",
         f"--landmarks={os.path.join(photos, 'landmarks.csv')}",
         f"--saved_model={os.path.join(export_base, 'tpgan')}",
         f"--output_dir={os.path.join(workdir, 'frontalized')}")
    return os.path.join(results, "index.html")


def main(argv):
    del argv
    from experiments import common

    logging.set_verbosity(logging.WARNING)
    try:
        os.makedirs(FLAGS.workdir, exist_ok=True)
        records = make_data(FLAGS.workdir, FLAGS.subjects, FLAGS.seed)
    except (*common.USER_ERRORS, OSError) as err:  # bad --subjects, unwritable --workdir
        common.fail(err)
    show_batch(records, FLAGS.workdir)
    show_models()
    if FLAGS.data_only:
        print(f"\nDone (data only). Everything is in {os.path.abspath(FLAGS.workdir)}")
        return
    page = train_and_serve(FLAGS.workdir, records)
    print(f"\nDone. Results page (tables and pictures): {os.path.abspath(page)}")
    print(f"Everything else is in {os.path.abspath(FLAGS.workdir)}")


if __name__ == "__main__":
    define_flags()
    app.run(main)
