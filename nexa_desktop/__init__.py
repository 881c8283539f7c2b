"""NEXA Desktop: the contractor office's job board, package verification and completion."""

__version__ = "0.1.0"
