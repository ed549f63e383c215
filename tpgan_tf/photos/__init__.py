"""The photo tool: every model on your own photos (`python -m experiments.apply`).

One pipeline for every model, as the face-restoration tools of this field ship it: find the
photos (files.py), find every face and its five points (faces.py: MTCNN, on an enlarged copy
for small faces; a landmark CSV; or `--aligned` ready crops), hand each face to the model's
applier (applier.py: the model's own `photos.py` aligns the face exactly as its training crops
were made and runs its signatures, from an export or a training run), paste results back
where a model asks for it (paste.py), and write every output atomically with one
results.json per run and a closing summary (tool.py).
"""
