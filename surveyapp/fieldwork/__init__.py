"""Fieldwork: how questionnaires reach people (links, QR flyers, personal invitations, calls)."""
