"""The ``crossdock`` command line: thin click commands over the layers below."""
