"""Blueprints: one per sandbox system, plus the sandbox administration."""
