"""The CMS webhook: its events and their queue, and the worker that scores them and calls back."""
