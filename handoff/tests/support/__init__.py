"""Test support shared by the bridge's test folders (browser and acceptance tests)."""
