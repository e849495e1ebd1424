"""Pipelines that span layers (formats, store, engine, reports): the demo, measuring a dataset."""
