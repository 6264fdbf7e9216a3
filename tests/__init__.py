"""Tests that span the whole platform (browser journeys)."""
