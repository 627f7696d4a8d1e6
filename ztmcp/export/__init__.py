"""Sending the audit log elsewhere (a SIEM), from the files, never from the hot path."""
