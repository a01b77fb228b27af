"""Loopback fakes of the chat platforms' APIs, started by the end-to-end tests themselves."""
