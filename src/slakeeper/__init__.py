"""slakeeper: run a service level agreement end to end from one policy file."""

__version__ = "0.1.0"
