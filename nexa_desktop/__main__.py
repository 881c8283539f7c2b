"""``python -m nexa_desktop`` is the same as ``nexa``."""

from nexa_desktop.cli import main

if __name__ == "__main__":
    main()
