"""Python helpers shared by the pytest suites (the .ts files here serve the node tests)."""
