"""Input limits, documented in the README. Beyond them a comment gets a clear error
(HTTP 413, or an error record in batch) rather than a slow or truncated answer."""

MAX_COMMENT_CHARS = 20_000  # ~3,500 words; the longest reader comments seen are far shorter
MAX_ARTICLE_CHARS = 400_000  # a long-read is ~60,000 characters
