"""Thin Flask blueprints over the framework-neutral eHealth clients."""
