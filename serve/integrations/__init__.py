"""Other systems rebut talks to: a CMS's signed webhooks, Coral Talk, Perspective's clients."""
