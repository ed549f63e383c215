"""The photo tool's driver: every photo of an input, every face of a photo, the model's
applier, atomic outputs, results.json, a progress bar and a closing summary.

Per photo, next to its path relative to the input under output_dir: `<name>_<output>.png`
(or .npy) per face (`<name>_face<k>_<output>` with --all_faces, k = 1 for the largest face)
and `<name>_<output>` for outputs of the whole photo. A photo that cannot be decoded, without
a usable face or with points outside it is reported and skipped; the run goes on. Every file
is written atomically, so an interrupted run leaves only finished files, and results.json
(one record per face or skipped photo: photo, face, box, landmarks, confidence, outputs,
skip reason) is written at the end.
"""
from __future__ import annotations

import os
import sys

from tpgan_tf.photos.applier import SkipFace
from tpgan_tf.photos.files import IMAGE_EXTENSIONS, find_photos, read_photo, write_output

RESULTS_FILE = "results.json"


def tf_error_reason(err) -> str:
    """The informative line of a TensorFlow op error (its assertion or decode message)."""
    noise = ("Graph execution error", "Detected at node", "<stack traces", "[[{{node")
    lines = [ln.strip() for ln in str(getattr(err, "message", err)).splitlines()]
    useful = [ln for ln in lines if ln and not ln.startswith(noise)]
    return (useful or lines or ["TensorFlow error"])[0][:300]


def _write(stem: str, outputs: dict, output_dir: str) -> list[str]:
    return [os.path.relpath(write_output(f"{stem}_{name}", value), output_dir)
            for name, value in outputs.items()]


def run(applier, face_source, input_path: str, output_dir: str, *, log=print,
        progress=sys.stderr) -> dict:
    """Runs the applier on every face of every photo of input_path (a photo or a folder).

    face_source: a faces.FaceSource. log: where report lines go; progress: the stream of a
    tqdm bar over the photos (None: no bar). Returns {"photos", "done" (photos with an
    output), "skipped" ({photo or "photo face k": reason}), "records"}, also in
    <output_dir>/results.json (with whatever applier.finish adds)."""
    import tensorflow as tf
    from tqdm import tqdm

    from tpgan_tf.core.files import write_json_atomic

    root, photos = find_photos(input_path)
    if not photos:
        raise FileNotFoundError(f"{input_path}: no photos ({', '.join(IMAGE_EXTENSIONS)})")
    os.makedirs(output_dir, exist_ok=True)
    records, done, skipped = [], [], {}
    bar = tqdm(total=len(photos), file=progress, disable=progress is None, unit="photo",
               leave=False)

    def say(line):
        with tqdm.external_write_mode(file=sys.stdout):
            log(line)

    for rel in photos:
        data, image = read_photo(os.path.join(root, rel))
        found = face_source.faces(rel, image) if image is not None else []
        if image is None:
            records.append({"photo": rel, "face": None, "outputs": [],
                            "skipped": "not a readable image"})
            skipped[rel] = "not a readable image"
        stem = os.path.join(output_dir, os.path.splitext(rel)[0])
        numbered = face_source.all_faces
        finished = []
        for face in found:
            outputs = {}
            if face.reason is None:
                try:
                    outputs = applier.face_outputs(image, data, face.landmarks)
                except tf.errors.InvalidArgumentError as err:  # e.g. a format TF cannot read
                    face.reason = tf_error_reason(err)
                except SkipFace as err:  # e.g. a ready crop of the wrong size
                    face.reason = str(err)
            record = {"photo": rel, **face.record(), "outputs": []}
            if face.reason is None:
                record["outputs"] = _write(f"{stem}_face{face.index}" if numbered else stem,
                                           outputs, output_dir)
                finished.append((face, outputs))
                say(f"{rel}{f' face {face.index}' if numbered else ''} -> "
                    f"{', '.join(record['outputs'])}")
            else:
                key = f"{rel} face {face.index}" if numbered and face.landmarks is not None \
                    else rel
                skipped[key] = face.reason
                say(f"{key}: skipped ({face.reason})")
            records.append(record)
        if finished:
            whole = applier.photo_outputs(image, finished)
            paths = _write(stem, whole, output_dir) if whole else []
            if paths:
                records.append({"photo": rel, "face": None, "outputs": paths,
                                "skipped": None})
                say(f"{rel} -> {', '.join(paths)}")
            done.append(rel)
        bar.update()
    bar.refresh()  # the final count even when the last photos came within tqdm's mininterval
    bar.close()
    extra = applier.finish(records, output_dir, log)
    write_json_atomic(os.path.join(output_dir, RESULTS_FILE),
                      {"model": applier.model.model, "source": applier.model.source,
                       "input": os.path.abspath(input_path), "faces": records, **extra},
                      indent=1)
    faces_done = sum(1 for r in records if r.get("face") and r["skipped"] is None)
    if skipped:
        log(f"skipped {len(skipped)} input{'s' * (len(skipped) != 1)}:")
        for key, reason in skipped.items():
            log(f"  {key}: {reason}")
    log(f"{applier.model.model}: {len(done)} of {len(photos)} photos done, "
        f"{faces_done} face{'s' * (faces_done != 1)}; skipped {len(photos) - len(done)} "
        f"photo{'s' * (len(photos) - len(done) != 1)}; output in {output_dir} "
        f"({RESULTS_FILE})")
    return {"photos": photos, "done": done, "skipped": skipped, "records": records}
