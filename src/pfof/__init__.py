"""pfof: make payment for order flow measurable."""

__version__ = "0.1.0"
