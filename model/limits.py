"""Input limits, documented in docs/limits-and-safety.md. Beyond them a comment gets a clear error
(HTTP 413, or an error record in batch) rather than a slow or truncated answer.

Within them, a comment's cost is bounded by the number of forward passes it can ask for,
not by its length alone: a comment of thousands of one-word sentences is read as at most
MAX_SPANS spans, and at most MAX_CLAIMS of its claims are checked against the article.
"""

MAX_COMMENT_CHARS = 20_000  # ~3,500 words; the longest reader comments seen are far shorter
MAX_ARTICLE_CHARS = 400_000  # a long-read is ~60,000 characters

# Spans scored per comment. A comment with more sentences is read as this many runs of
# neighbouring sentences: 20,000 characters / 64 is ~310 characters a span, inside the
# text model's 128-token window, so every word is still read, with fewer passes.
MAX_SPANS = 64
# Claims checked against the article per comment, the most check-worthy first: each costs
# one pass per retrieved passage, and a moderator reads no more than a handful.
MAX_CLAIMS = 16
