"""Thin routes: each parses the request, calls the domain off the event loop, and answers."""
