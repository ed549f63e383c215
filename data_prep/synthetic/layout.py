"""The raw Multi-PIE layout writer (tpgan spec 6.1): `generate` renders every (subject, session,
camera, flash) image with a per-camera pose jitter and writes the PNGs and landmarks.csv."""
from __future__ import annotations

import multiprocessing
import os
import sys
import time
from typing import Iterable, Sequence

import cv2
import numpy as np

from data_prep import cameras as cams
from tpgan_tf.faces.landmarks import CSV_HEADER
from data_prep.multipie import ImageKey
from data_prep.synthetic.constants import (DEFAULT_ILLUMINATIONS, DEFAULT_IMAGE_SIZE,
                                           JITTER_ROLL_DEG, JITTER_SCALE, JITTER_SHIFT,
                                           JITTER_YAW_DEG, LANDMARKS_FILE, RECORDING)
from data_prep.synthetic.head_model import head_model
from data_prep.synthetic.identities import _seeded_rng, identity_for
from data_prep.synthetic.rendering import _make_view, _shade_view


def image_relpath(subject: int, session: int, recording: int, camera: str,
                  illumination: int) -> str:
    """Raw Multi-PIE path (spec 6.1), '/'-separated, relative to the output directory:
    data/session01/multiview/001/01/05_1/001_01_01_051_07.png."""
    folder = cams.camera_from_code(camera).folder
    return ImageKey(subject, session, recording, folder, illumination).relative_path()


def _write_atomic(path: str, data: bytes) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def camera_jitter(seed: int, subject: int, session: int, camera: str,
                  image_size: Sequence[int] = DEFAULT_IMAGE_SIZE) -> dict:
    """The head pose jitter `generate` uses for one (subject, session, camera), shared by all
    its illuminations: {yaw_degrees, roll_degrees, shift, scale}, keyword arguments of
    `render_view`. The yaw is the camera's (spec 6.2) plus a small random head turn."""
    cam = cams.camera_from_code(camera)
    jr = _seeded_rng(seed, subject, session, int(cam.code))
    w, h = image_size
    return {"yaw_degrees": cam.yaw + jr.uniform(-JITTER_YAW_DEG, JITTER_YAW_DEG),
            "roll_degrees": jr.uniform(-JITTER_ROLL_DEG, JITTER_ROLL_DEG),
            "shift": (jr.uniform(-1, 1) * JITTER_SHIFT * w, jr.uniform(-1, 1) * JITTER_SHIFT * h),
            "scale": 1 + jr.uniform(-JITTER_SCALE, JITTER_SCALE)}


def _render_subject(task: tuple) -> list[tuple[str, np.ndarray]]:
    """Renders and writes every image of one (subject, session); returns (relpath, landmarks)."""
    out_dir, subject, session, seed, size, illuminations, camera_folders = task
    params = identity_for(seed, subject, session)
    rows = []
    for cam in (cams.BY_FOLDER[f] for f in camera_folders):
        jit = camera_jitter(seed, subject, session, cam.folder, size)
        view = _make_view(params, jit["yaw_degrees"], size, jit["roll_degrees"], jit["shift"],
                          jit["scale"])
        folder = os.path.join(out_dir, os.path.dirname(
            image_relpath(subject, session, RECORDING, cam.folder, 0)))
        os.makedirs(folder, exist_ok=True)
        for illum in illuminations:
            rel = image_relpath(subject, session, RECORDING, cam.folder, illum)
            image = _shade_view(view, illum)
            ok, png = cv2.imencode(".png", image[..., ::-1])  # cv2 expects BGR
            if not ok:
                raise RuntimeError(f"{rel}: PNG encoding failed")
            _write_atomic(os.path.join(out_dir, rel), png.tobytes())
            rows.append((rel, view.landmarks))
    head_model.cache_clear()  # one identity at a time: keep the worker's memory flat
    return rows


def _worker_init() -> None:
    cv2.setNumThreads(1)  # the pool gives the parallelism


def _check_args(num_subjects: int, illuminations: Iterable[int], sessions: int,
                image_size: Sequence[int], camera_folders: Iterable[str]) -> None:
    if not 1 <= num_subjects <= 999:
        raise ValueError(f"num_subjects={num_subjects}: must be 1..999 (3-digit subject ids)")
    if not 1 <= sessions <= 9:
        raise ValueError(f"sessions={sessions}: must be 1..9 (folder session0S)")
    for i in illuminations:
        if not 0 <= int(i) < cams.NUM_ILLUMINATIONS:
            raise ValueError(f"illumination {i}: not a Multi-PIE flash index (00..19)")
    w, h = image_size
    if w < 64 or h < 48:
        raise ValueError(f"image size {w}x{h}: must be at least 64x48")
    for f in camera_folders:
        cams.camera_from_code(f)


def generate(output_dir: str, num_subjects: int,
             illuminations: Sequence[int] = DEFAULT_ILLUMINATIONS, sessions: int = 1,
             image_size: Sequence[int] = DEFAULT_IMAGE_SIZE, seed: int = 0,
             workers: int | None = None, cameras: Sequence[str] | None = None,
             progress: bool = True) -> dict:
    """Writes num_subjects x sessions x cameras x illuminations images in the raw Multi-PIE
    layout under output_dir, plus output_dir/landmarks.csv. Deterministic by seed (and
    independent of `workers`). cameras: folder ids such as '05_1' (default: all 13).
    Returns a summary dict (images, subjects, sessions, seconds, images_per_second, ...).
    """
    start = time.perf_counter()
    illuminations = tuple(sorted({int(i) for i in illuminations}))
    camera_folders = tuple(c.folder for c in cams.CAMERAS) if cameras is None else tuple(
        cams.camera_from_code(c).folder for c in cameras)
    size = (int(image_size[0]), int(image_size[1]))
    _check_args(num_subjects, illuminations, sessions, size, camera_folders)
    os.makedirs(output_dir, exist_ok=True)
    tasks = [(output_dir, subj, sess, seed, size, illuminations, camera_folders)
             for subj in range(1, num_subjects + 1) for sess in range(1, sessions + 1)]
    workers = min(workers or os.cpu_count() or 1, len(tasks))
    per_task = len(camera_folders) * len(illuminations)
    rows: list = []
    bar = _progress_bar(len(tasks) * per_task, progress)
    if workers <= 1:
        threads = cv2.getNumThreads()
        cv2.setNumThreads(1)
        try:
            for task in tasks:
                rows.extend(_render_subject(task))
                bar.update(per_task)
        finally:
            cv2.setNumThreads(threads)
    else:
        ctx = multiprocessing.get_context("spawn")  # safe even if the caller holds threads
        with ctx.Pool(workers, initializer=_worker_init) as pool:
            for result in pool.imap_unordered(_render_subject, tasks):
                rows.extend(result)
                bar.update(per_task)
    bar.close()
    rows.sort(key=lambda r: r[0])
    lines = [",".join(CSV_HEADER)] + [
        rel + "," + ",".join(f"{v:.2f}" for v in lms.reshape(-1)) for rel, lms in rows]
    csv_path = os.path.join(output_dir, LANDMARKS_FILE)
    _write_atomic(csv_path, ("\n".join(lines) + "\n").encode())
    seconds = time.perf_counter() - start
    return {"output_dir": output_dir, "landmarks_csv": csv_path, "images": len(rows),
            "subjects": num_subjects, "sessions": sessions, "cameras": len(camera_folders),
            "illuminations": list(illuminations), "image_size": list(size),
            "workers": workers, "seconds": seconds,
            "images_per_second": len(rows) / max(seconds, 1e-9)}


def _progress_bar(total: int, enabled: bool):
    from tqdm import tqdm
    return tqdm(total=total, unit="img", disable=not enabled, desc="synthetic",
                file=sys.stderr)
