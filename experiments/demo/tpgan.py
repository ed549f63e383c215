"""The TP-GAN stage of the demo: the `demo` preset trained on the pair records, exported for TF
Serving, evaluated by the paper's protocol and run on held-out "photos"."""
from __future__ import annotations

import os
import shutil

from experiments.demo import shared
from experiments.demo.common import (REAL_PHOTO, DemoContext, apply_to_photos, run_script,
                                     show_models, step, timed, train_and_export)

MODEL = "tpgan"


def show_batch(ctx: DemoContext) -> str:
    """One training batch through the input pipeline, saved as a picture sheet."""
    import numpy as np

    from tpgan_tf.data.pipeline import split_pattern
    from tpgan_tf.evaluation.sheets import write_png
    from tpgan_tf.models.tpgan.inputs import make_dataset

    step("TP-GAN input pipeline: one training batch")
    batch = next(iter(make_dataset(split_pattern(ctx.pair_records, "train"), 10, seed=0)))
    for key in ("image", "eye_left", "nose", "mouth", "frontal", "label", "yaw"):
        print(f"  {key:<10} {tuple(batch[key].shape)} {batch[key].dtype.name}")
    columns = [np.concatenate([batch["image"][i], batch["frontal"][i]], axis=0)
               for i in range(batch["image"].shape[0])]
    path = ctx.model_dir(MODEL, "batch.png")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_png(path, (np.concatenate(columns, axis=1) * 256).astype(np.uint8))
    print(f"profiles (mirrored to face right) over their frontals: {path}")
    return path


def pick_photos(ctx: DemoContext, count: int = 6) -> str:
    """Copies a few raw test images of different poses (with their landmarks) to a folder, as
    stand-ins for a user's photos. Returns the folder."""
    from tpgan_tf.faces.landmarks import read_landmark_csv, write_landmark_csv

    photos = ctx.model_dir(MODEL, "photos")
    points = read_landmark_csv(os.path.join(ctx.multipie, "landmarks.csv"))
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
        shutil.copy(os.path.join(ctx.multipie, *rel.split("/")), os.path.join(photos, name))
        mapping[name] = points[rel]
    write_landmark_csv(os.path.join(photos, "landmarks.csv"), mapping)
    return photos


def run(ctx: DemoContext, data_only: bool = False) -> dict:
    """The whole stage; returns {"results": results dir, "page": its index.html}."""
    from tpgan_tf.core.config import get_config

    cfg = get_config("demo", MODEL)
    shared.multiview_faces(ctx)
    shared.pair_records(ctx)
    show_batch(ctx)
    show_models(MODEL, "TP-GAN")
    if data_only:
        return {}
    shared.identity_network(ctx, cfg.model.lightcnn_width)
    train, export_base = train_and_export(ctx, MODEL, "TP-GAN", ctx.pair_records,
                                          f"--weights=lightcnn={ctx.lightcnn}")
    results = ctx.model_dir(MODEL, "results")
    step("TP-GAN evaluation by the paper's protocol")
    with timed(ctx, "TP-GAN evaluation"):
        run_script("experiments.evaluate", f"--data_dir={ctx.pair_records}",
                   f"--model_dir={train}", f"--output_dir={results}")
    step("TP-GAN: frontalize photos with the exported SavedModel")
    photos = pick_photos(ctx)
    with timed(ctx, "TP-GAN frontalize photos"):
        run_script("experiments.apply", "--model=tpgan", f"--input={photos}",
                   f"--landmarks={os.path.join(photos, 'landmarks.csv')}",
                   f"--saved_model={os.path.join(export_base, MODEL)}",
                   f"--output_dir={ctx.model_dir(MODEL, 'frontalized')}")
    apply_to_photos(ctx, MODEL, "TP-GAN", export_base, REAL_PHOTO)
    return {"results": results, "page": os.path.join(results, "index.html")}
