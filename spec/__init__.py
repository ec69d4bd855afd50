"""The bundled OpenAPI description of the LiveOps and Catalog APIs (package data)."""

from pathlib import Path

ROOT = Path(__file__).with_name("openapi.yaml")
