"""Contact Exposure Auditor: static audit of Android apps for contact, SMS and call-log exposure."""

__version__ = "0.1.0"
