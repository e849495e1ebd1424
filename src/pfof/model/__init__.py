"""Shared vocabulary: enums, canonical table schemas and typed report models."""
