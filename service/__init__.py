"""OpenReel's service: settings, the command line, and (later) the HTTP API and workers."""
