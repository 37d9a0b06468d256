"""The user's library: the store of analysed tracks and their vectors, the indexer that fills it, and search over it."""
