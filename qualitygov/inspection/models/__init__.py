"""Spot-check supervision records; each part of the workflow keeps its models in its own module."""
