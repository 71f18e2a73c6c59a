"""Consent texts, versioned per language, and the consent record kept with each response."""
