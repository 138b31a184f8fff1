"""Parsers for French prescription texts: posologies and plain-text ordonnances."""
