"""Campaigns: a brand's perk offer, the matching funnel, the shortlist and its CSV export.

Pipeline modules (store, matching, allocation, export) never import Flask; forms.py holds the
web form and perks/cli/campaigns.py the CLI.
"""

# Free of imports, so the CLI offers the choices without loading the models.
TOPIC_MODES = ("any", "all")
SCORE_MODES = ("percentile", "absolute")
