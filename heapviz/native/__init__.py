"""Real C programs on heapviz: `heapviz cc` and `heapviz run PROGRAM` (docs/c_programs.md)."""
