"""Custom actions for the citizen assistant, run by the Rasa action server.

One module per concern: `handoff` (escalation to a person), `clarify`
(low-confidence fallback), `integrations` (municipal systems), `privacy`
(masking personal data before anything leaves a turn).
"""
