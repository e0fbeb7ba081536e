"""Custom actions for the citizen assistant, run by the Rasa action server.

One module per concern: `handoff` (escalation to a person), `clarify`
(low-confidence fallback), `integrations` (municipal systems), and the
personal answers (`personal`, `national_id_form`, `identity`, `login`,
`payout`, `case_status`). Masking of personal data and the identity-number
rules live in the shared package `ddh_privacy` (the assistant's marker in
`rasa_addons.privacy`, shared with the tracker store).
"""
