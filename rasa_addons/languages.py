"""The languages the assistant speaks, in one place."""

DANISH = "da"
SWEDISH = "sv"
SUPPORTED = (DANISH, SWEDISH)
DEFAULT = DANISH

# Name of the conversation slot that holds the language answers are given in.
LANGUAGE_SLOT = "language"
