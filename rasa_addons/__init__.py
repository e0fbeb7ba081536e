"""Extensions that run inside the Rasa server: NLU components, policies, channels."""
