"""NEXA Cloud: the account service behind NEXA Desktop (seats, signed licenses, usage, analytics)."""

__version__ = "0.1.0"
