"""Contact Exposure Auditor: static audit of Android apps for contact, SMS and call-log exposure.

The public Python API is `audit`, `load_rules`, `Limits` and the result types of auditor.model
(`AppResult` and what it holds); see auditor/api.py and the README.
"""

__version__ = "0.1.0"

from auditor.api import audit, load_rules  # after __version__, which submodules import
from auditor.limits import Limits
from auditor.model import AppResult

__all__ = ["AppResult", "Limits", "__version__", "audit", "load_rules"]
