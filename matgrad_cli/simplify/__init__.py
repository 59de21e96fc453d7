"""Simplification to textbook form: named rewrite rules run to a fixed point."""
from .driver import simplify
from .rules import RULES

__all__ = ["simplify", "RULES"]
