"""QualityGov: the platform a provincial quality regulator runs."""

__version__ = "0.1.0"
