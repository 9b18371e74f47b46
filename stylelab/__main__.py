"""``python -m stylelab`` is the same as the ``stylelab`` console script."""

from stylelab.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
