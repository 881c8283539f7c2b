"""Entry script of the frozen app: the same as the ``nexa`` command (``nexa_desktop.cli.main``).

``main()`` calls ``multiprocessing.freeze_support()`` first, so the spawned workers (the PDF reader
and the model) start from this same executable.
"""

from nexa_desktop.cli import main

if __name__ == "__main__":
    main()
