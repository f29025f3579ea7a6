"""heapviz's version (the package's __version__ and the recordings' "generator")."""

__version__ = "0.1.0"
