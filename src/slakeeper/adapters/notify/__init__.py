"""Notifiers: how outbox messages leave (webhook), with an in-memory fake beside it."""
