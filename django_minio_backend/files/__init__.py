"""The file objects ``open()`` returns: the pinned, resumable reader and the streaming writer."""
