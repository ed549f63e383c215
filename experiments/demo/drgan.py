"""The DR-GAN stage of the demo: image records of the shared synthetic faces, the `demo` preset
trained on them, exported for TF Serving, evaluated by both protocols (DR-GAN's f(x) rank-1 on
the image records; TP-GAN's protocol on the shared pair records with the shared Light-CNN),
and one held-out face rendered at every pose code by the exported SavedModel."""
from __future__ import annotations

import os
import shutil

from experiments.demo import shared
from experiments.demo.common import (REAL_PHOTO, DemoContext, apply_to_photos, run_script,
                                     show_models, step, timed, train_and_export)

MODEL = "drgan"
POSE_PICTURE = "pose_codes_savedmodel.png"


def image_records(ctx: DemoContext) -> str:
    """DR-GAN's single-image records of the synthetic faces (finished shards are skipped)."""
    out = ctx.model_dir(MODEL, "records")
    step("DR-GAN image records: alignment, DR-GAN protocol split, shards, manifest")
    with timed(ctx, "DR-GAN image records"):
        run_script("data_prep.build_image_records", f"--multipie_root={ctx.multipie}",
                   f"--output_dir={out}", f"--test_subjects_from={ctx.test_subjects_from}")
    return out


def held_out_face(records: str):
    """The first test image at the largest positive yaw of the pose set: (aligned uint8
    [128, 128, 3], its path)."""
    import tensorflow as tf

    from tpgan_tf.data.image_records import parse_image
    from tpgan_tf.data.pipeline import list_shards, split_pattern

    best = None
    for serialized in tf.data.TFRecordDataset(list_shards(split_pattern(records, "test"))):
        ex = parse_image(serialized)
        yaw = int(ex["yaw"])
        if best is None or yaw > best[0]:
            best = (yaw, ex["image"].numpy(), ex["path"].numpy().decode())
    return best[1], best[2]


def pose_picture(ctx: DemoContext, records: str, export_base: str) -> str:
    """One held-out face at every pose code through the exported `rotate` signature."""
    import numpy as np
    import tensorflow as tf

    from tpgan_tf.evaluation.sheets import picture_sheet, write_png
    from tpgan_tf.serving.export import latest_version_dir, read_export_info

    step("DR-GAN: one held-out face at every pose code, by the exported SavedModel")
    version = latest_version_dir(os.path.join(export_base, MODEL))
    yaws = read_export_info(version)["pose_views_yaw_degrees"]
    face, path = held_out_face(records)
    rotate = tf.saved_model.load(version).signatures["rotate"]
    out = rotate(image=tf.constant(np.repeat(face[None], len(yaws), axis=0)),
                 pose=tf.range(len(yaws), dtype=tf.int32))["image"].numpy()
    size = out.shape[1]
    shown = tf.image.resize(face[None], [size, size], antialias=True).numpy()[0]
    sheet = picture_sheet([(path, [np.clip(shown, 0, 255).astype(np.uint8), *out])],
                          ["input"] + [f"{y:+d}" for y in yaws],
                          "DR-GAN demo: a held-out face at every pose code (SavedModel rotate)")
    picture = ctx.model_dir(MODEL, POSE_PICTURE)
    write_png(picture, sheet)
    print(f"{path} at yaws {yaws}: {picture}")
    return picture


def compare_photos(ctx: DemoContext) -> str:
    """workdir/drgan/photos_in: the real photo and its mirror image (one person) for
    `--compare`, and a held-out synthetic face photo (another person)."""
    import cv2

    folder = ctx.model_dir(MODEL, "photos_in")
    os.makedirs(folder, exist_ok=True)
    photo = cv2.imread(REAL_PHOTO, cv2.IMREAD_COLOR)
    cv2.imwrite(os.path.join(folder, "astronaut.png"), photo)
    cv2.imwrite(os.path.join(folder, "astronaut_mirrored.png"), photo[:, ::-1])
    subject = ctx.subjects  # a test identity, frontal camera 051, illumination 07
    other = os.path.join(ctx.multipie, "data", "session01", "multiview", f"{subject:03d}",
                         "01", "05_1", f"{subject:03d}_01_01_051_07.png")
    if os.path.exists(other):
        shutil.copyfile(other, os.path.join(folder, "synthetic_other_person.png"))
    return folder


def run(ctx: DemoContext, data_only: bool = False) -> dict:
    """The whole stage; returns {"results": results dir, "page": its index.html}."""
    from tpgan_tf.core.config import get_config

    shared.multiview_faces(ctx)
    records = image_records(ctx)
    shared.pair_records(ctx)
    show_models(MODEL, "DR-GAN")
    if data_only:
        return {}
    # The same identity network as TP-GAN's stage (its width), so both are scored alike.
    shared.identity_network(ctx, get_config("demo", "tpgan").model.lightcnn_width)
    train, export_base = train_and_export(ctx, MODEL, "DR-GAN", records)
    results = ctx.model_dir(MODEL, "results")
    step("DR-GAN evaluation: its own protocol (f(x)) and TP-GAN's (frontal syntheses)")
    with timed(ctx, "DR-GAN evaluation"):
        run_script("experiments.evaluate", f"--data_dir={records}", f"--model_dir={train}",
                   f"--override=eval.pairs_dir={ctx.pair_records}",
                   f"--override=eval.lightcnn_weights={ctx.lightcnn}", f"--output_dir={results}")
    with timed(ctx, "DR-GAN pose picture"):
        pose_picture(ctx, records, export_base)
    apply_to_photos(ctx, MODEL, "DR-GAN", export_base, compare_photos(ctx), "--compare")
    return {"results": results, "page": os.path.join(results, "index.html")}
