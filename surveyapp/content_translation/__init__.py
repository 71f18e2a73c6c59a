"""Translating questionnaire content: completeness per language and translators' spreadsheets."""
