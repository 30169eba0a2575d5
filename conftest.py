# Loaded by every pytest suite of the repository (graphiti/tests, tests/backup, tests/tracing): the logs of the
# servers a failed test used are printed with the failure and kept (tests/support/server_logs.py).
pytest_plugins = ['tests.support.server_logs']
