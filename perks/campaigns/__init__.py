"""Campaigns: a brand's perk offer, the matching funnel, the shortlist and its CSV export.

Pipeline modules (store, matching, allocation, export) never import Flask; forms.py holds the
web form and commands.py the CLI.
"""
