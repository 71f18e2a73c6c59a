"""The questionnaire builder: start, edit and publish questionnaires in the browser."""
