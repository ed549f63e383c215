"""Demo data shared by the frontalization models: synthetic multi-view faces in the raw
Multi-PIE layout, their pair records, and the identity network (Light-CNN-29) trained on them."""
from __future__ import annotations

import os

from experiments.demo.common import DemoContext, run_script, step, timed

ILLUMINATIONS = (4, 7, 10)


def multiview_faces(ctx: DemoContext) -> str:
    """Synthetic multi-view faces (skipped when already there). Returns the root."""
    from data_prep import synthetic

    step("synthetic multi-view faces (raw Multi-PIE layout)")
    if os.path.exists(os.path.join(ctx.multipie, "landmarks.csv")):
        print(f"already there: {ctx.multipie}")
        return ctx.multipie
    with timed(ctx, "synthetic multi-view faces"):
        summary = synthetic.generate(ctx.multipie, ctx.subjects, illuminations=ILLUMINATIONS,
                                     seed=ctx.seed)
    print(f"{summary['images']} images of {ctx.subjects} identities in {ctx.multipie} "
          f"({summary['images_per_second']:.0f} images/s)")
    return ctx.multipie


def pair_records(ctx: DemoContext) -> str:
    """(profile, frontal) pair records (finished shards are skipped). Returns the folder."""
    from data_prep import build_tfrecords

    step("pair records: alignment, patches, shards, manifest")
    with timed(ctx, "pair records"):
        manifest = build_tfrecords.build(ctx.pair_records, multipie_root=ctx.multipie,
                                         test_subjects_from=ctx.test_subjects_from)
    for split, info in manifest["splits"].items():
        print(f"{split}: {info['examples']} pairs in {len(info['shards'])} shards")
    print(f"skipped inputs: {len(manifest['skipped'])}; manifest: "
          f"{os.path.join(ctx.pair_records, 'manifest.json')}")
    return ctx.pair_records


def identity_network(ctx: DemoContext, width: float) -> str:
    """Light-CNN-29 at `width` trained as a subject classifier (skipped when there)."""
    from tpgan_tf.core.distribution import DETERMINISTIC_ENV

    step("identity network: Light-CNN-29 trained as a subject classifier")
    if os.path.exists(ctx.lightcnn):
        print(f"already there: {ctx.lightcnn}")
        return ctx.lightcnn
    with timed(ctx, "identity network"):
        run_script("experiments.pretrain_lightcnn", f"--data_dir={ctx.pair_records}",
                   f"--output={ctx.lightcnn}", f"--width={width}",
                   f"--num_steps={ctx.lightcnn_steps}", env=DETERMINISTIC_ENV)
    return ctx.lightcnn
