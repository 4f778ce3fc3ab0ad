"""The agreement suite and the pytest plugin that runs it (``pytest --gradparity``)."""
