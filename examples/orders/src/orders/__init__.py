"""Two Lambda functions that share a layer of dependencies."""
