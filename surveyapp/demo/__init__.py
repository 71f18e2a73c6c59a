"""Demo content: questionnaire definitions and generated responses."""
