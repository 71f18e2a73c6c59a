"""Fieldwork: how questionnaires reach people (links, QR codes and flyers, invitations, calls)."""
