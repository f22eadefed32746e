"""Offline HIPAA Safe Harbor PHI detection and redaction."""
