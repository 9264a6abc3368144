"""Coral Talk's external moderation phase: its shapes, ids and decisions, and story pages."""
