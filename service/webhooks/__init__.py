"""Webhooks: the outbox that turns finished videos into events, and their signed, retried
delivery to the endpoints users registered (service/domain/webhooks.py manages those)."""
