"""Evaluation shared by every model: metrics, recognition and image-quality protocols, the report
(JSON / Markdown / HTML), plots and picture sheets."""
