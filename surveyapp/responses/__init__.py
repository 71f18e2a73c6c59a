"""The respondent side: drafts saved page by page, resume, idempotent submit, receipts."""
