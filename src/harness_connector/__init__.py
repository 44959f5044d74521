"""harness-connector: an MCP server for Harness CI/CD that keeps history and answers with analysis."""

__version__ = "0.1.0"

__all__ = ["__version__"]
