"""`python -m data_prep.synthetic --output_dir=DIR [...]`: writes the raw Multi-PIE layout."""
from absl import app

from data_prep.synthetic.cli import _define_flags, main

if __name__ == "__main__":
    _define_flags()
    app.run(main)
