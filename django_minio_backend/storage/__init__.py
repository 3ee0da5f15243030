"""Django's Storage API: the MinioBackend adapter, its 4.x members, names, URLs, the router."""
