"""refdeck: a keyboard-driven terminal browser for scholarly literature records."""

__version__ = "0.1.0"
