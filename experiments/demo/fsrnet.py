"""The FSRNet stage of the demo: synthetic face records, the `demo` preset trained on them,
exported for TF Serving, evaluated against bicubic by the official protocol (fsrnet spec 9) on
held-out identities, and the export run on held-out 16 x 16 faces (experiments.apply
--aligned) and on a real photo whose face is ~20 px wide (pasted back x8).
Every step runs the project's own scripts and skips or resumes finished work."""
from __future__ import annotations

import os

import numpy as np

from experiments.demo.common import (REAL_PHOTO, DemoContext, apply_to_photos, run_script,
                                     show_models, step, timed, train_and_export)

MODEL = "fsrnet"
TRAIN_IDENTITIES, TEST_IDENTITIES, VIEWS = 64, 8, 4  # 256 training, 32 test faces
SEED_OFFSET = 1000  # FSRNet's synthetic people differ from the multi-view demo's
FACES_TO_SUPER_RESOLVE = 8


def face_records(ctx: DemoContext) -> str:
    """The synthetic face records (finished shards are kept). Returns the folder."""
    out = ctx.model_dir(MODEL, "records")
    step("FSRNet: synthetic face records (HR 128x128, 68 landmarks, Helen-11 label maps)")
    with timed(ctx, "FSRNet face records"):
        run_script("data_prep.build_face_records", "--source=synthetic", f"--output_dir={out}",
                   f"--synthetic_identities={TRAIN_IDENTITIES}",
                   f"--synthetic_test_identities={TEST_IDENTITIES}",
                   f"--synthetic_views={VIEWS}", f"--seed={ctx.seed + SEED_OFFSET}")
    return out


def held_out_faces(ctx: DemoContext, records: str) -> str:
    """The first test faces as 16 x 16 PNGs (the spec 1 degradation of the training input,
    rounded to bytes), as a user's small faces. Returns the folder."""
    import numpy as np

    from tpgan_tf.core.config import get_config
    from tpgan_tf.data.pipeline import split_pattern
    from tpgan_tf.evaluation.sheets import write_png
    from tpgan_tf.models.fsrnet.inputs import eval_dataset

    folder = ctx.model_dir(MODEL, "faces16")
    os.makedirs(folder, exist_ok=True)
    cfg = get_config("demo", MODEL)
    batch = next(iter(eval_dataset(split_pattern(records, "test"), cfg,
                                   FACES_TO_SUPER_RESOLVE)))
    for name, lr in zip(batch["name"].numpy(), batch["lr"].numpy()):
        write_png(os.path.join(folder, name.decode() + ".png"),
                  np.clip(np.round(lr * 255), 0, 255).astype(np.uint8))
    return folder


SMALL_FACE = 20.0  # px: the width of MTCNN's box of the face in the shrunk real photo


def small_face_photo(ctx: DemoContext) -> str:
    """workdir/fsrnet/photos_in/astronaut_small.png: the real photo shrunk (area) so that
    its face is ~SMALL_FACE px wide, the size FSRNet is for."""
    import cv2

    from tpgan_tf.faces import detection

    image = cv2.imread(REAL_PHOTO, cv2.IMREAD_COLOR)
    faces = detection.detect(np.ascontiguousarray(image[:, :, ::-1]))
    scale = SMALL_FACE / (faces[0].box[2] - faces[0].box[0]) if faces else 0.25
    folder = ctx.model_dir(MODEL, "photos_in")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "astronaut_small.png")
    cv2.imwrite(path, cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))
    return path


def run(ctx: DemoContext, data_only: bool = False) -> dict:
    """The whole stage; returns {"results": results dir, "page": its index.html}."""
    records = face_records(ctx)
    show_models(MODEL, "FSRNet")
    if data_only:
        return {}
    train, export_base = train_and_export(ctx, MODEL, "FSRNet", records)
    results = ctx.model_dir(MODEL, "results")
    step("FSRNet evaluation against bicubic (official Y-PSNR / SSIM protocol, spec 9)")
    with timed(ctx, "FSRNet evaluation"):
        run_script("experiments.evaluate", f"--model={MODEL}", f"--data_dir={records}",
                   f"--model_dir={train}", "--override=eval.test_set=synthetic_test",
                   f"--output_dir={results}")
    step("FSRNet: super-resolve held-out 16x16 faces with the exported SavedModel")
    with timed(ctx, "FSRNet super-resolve faces"):
        faces = held_out_faces(ctx, records)
        run_script("experiments.apply", "--model=fsrnet", "--aligned", f"--input={faces}",
                   f"--saved_model={os.path.join(export_base, MODEL)}",
                   f"--output_dir={ctx.model_dir(MODEL, 'super_resolved')}")
    apply_to_photos(ctx, MODEL, "FSRNet", export_base, small_face_photo(ctx))
    return {"results": results, "page": os.path.join(results, "index.html")}
