"""The delegate agent, the test agent and the test-execution bridge: the processes that run work near the tests."""
