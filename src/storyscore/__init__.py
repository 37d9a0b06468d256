"""storyscore: find music whose emotion fits a story."""

__version__ = "0.1.0"
