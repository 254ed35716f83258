"""Review stage: the queue of flagged accounts, human decisions with an audit trail, the
threshold view and retraining from reviews. No Flask here: the CLI and web views call these."""
