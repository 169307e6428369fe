"""The testers' web page: static files served by the app itself, using the public API only."""
