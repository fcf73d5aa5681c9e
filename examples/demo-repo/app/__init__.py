"""Demo application package."""
