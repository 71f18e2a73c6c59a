"""Programmes: units working towards target marks in dated stages, advancing or dropping out."""
