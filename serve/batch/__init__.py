"""`rebut score`: files of comments scored in batch, in local processes or on Ray Data."""
