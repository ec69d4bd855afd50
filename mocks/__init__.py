"""The stateful mock of the LiveOps and Catalog APIs."""
