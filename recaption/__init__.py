"""Prompt rewriting ("recaption") for OpenReel: a library that never imports `service`."""
