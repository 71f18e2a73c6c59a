"""Questionnaires, their immutable versions, pages, questions, options and conditions."""
