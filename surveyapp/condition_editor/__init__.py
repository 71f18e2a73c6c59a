"""The form-based editor of show-if conditions on questions and pages of a draft version."""
