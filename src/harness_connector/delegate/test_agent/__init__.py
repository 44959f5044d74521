"""The test agent: test profiles served over Avo Assure's DevOps protocol, run as processes, kept on disk.

`profiles` says what a key runs; `executions` queues and runs them (`runner` is one run as a process group,
`store` the directory that outlives the process); `reports` counts and merges the JUnit a run produced; `app` is
the HTTP face. `harness-connector test-agent` puts them together.
"""
