"""Reading a photo-tool run's records (tool.py's results.json entries) in an applier's
`finish`: which faces were done, under which names."""
from __future__ import annotations


def faces_done(records: list[dict]) -> list[tuple[str, dict]]:
    """(name, record) of every face with outputs, in the order the tool ran them (the order
    of the applier's face_outputs calls that returned). name: the photo's relative path, or
    "<photo> face <k>" when several faces of the photo were done (--all_faces)."""
    done = [r for r in records if r.get("face") is not None and r.get("skipped") is None]
    per_photo = {}
    for r in done:
        per_photo[r["photo"]] = per_photo.get(r["photo"], 0) + 1
    return [(r["photo"] if per_photo[r["photo"]] == 1 else f"{r['photo']} face {r['face']}", r)
            for r in done]


def run_faces(stash: list, count: int) -> list:
    """The last `count` entries of what an applier kept per face_outputs call (the faces of
    the run that just ended: a run that stopped with an error may have left some before
    them). RuntimeError if there are fewer."""
    if len(stash) < count:
        raise RuntimeError(f"{count} faces done but only {len(stash)} kept by the applier")
    return stash[len(stash) - count:]
