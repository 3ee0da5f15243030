"""Static files: the static storages, the collectstatic session, compression, parallel uploads."""
