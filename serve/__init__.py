"""rebut's serving side: the HTTP API, the store and the `rebut` command. Calls model/,
never the other way round."""
