"""Privacy and consent: the probable-minor heuristic, the suppression list, forget and opt-out.

No Flask here: the importer, matching, the CLI and the web pages all call these modules.
"""

from perks.privacy.forget import ForgetResult, forget_account
from perks.privacy.minors import minor_evidence, probable_minor
from perks.privacy.suppression import SuppressionIndex, is_suppressed, suppress

__all__ = ["ForgetResult", "SuppressionIndex", "forget_account", "is_suppressed",
           "minor_evidence", "probable_minor", "suppress"]
