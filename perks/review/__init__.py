"""Review stage: the queue of flagged accounts, human decisions with an audit trail, the
threshold view and retraining from reviews. No Flask here: the CLI and web views call these."""

# The review vocabulary lives here, free of imports, so the CLI offers the choices without
# loading the models or the queue.
REVIEW_DECISIONS = ("automated", "genuine", "unsure")
STATES = ("pending", "genuine", "automated", "unsure", "decided", "all")  # queue filters
