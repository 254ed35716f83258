"""What each bot-strictness setting means: moved to perks.detection.policy, which owns the
threshold policy; re-exported here for the campaign form."""

from perks.detection.policy import Setting, StrictnessTable, strictness_table

__all__ = ["Setting", "StrictnessTable", "strictness_table"]
