"""Custom NLU components for Danish and Swedish citizen messages."""
