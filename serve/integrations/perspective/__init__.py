"""Perspective API compatibility: its requests, responses and errors, and its suggestions."""
