"""Checks of a bundle by software this project did not write: stix2-validator and stix2.parse."""

from __future__ import annotations

from typing import Any

from distillguard.share import extension as ext


def validator_errors(bundle: dict[str, Any]) -> list[str]:
    """stix2-validator's errors for a bundle, in strict mode with the extension's schema (empty: valid)."""
    from stix2validator import ValidationOptions, validate_instance

    options = ValidationOptions(
        version="2.1", strict=True, strict_properties=True, schema_dir=ext.schema_dir(), silent=True
    )
    result = validate_instance(bundle, options)
    errors = [str(e) for e in result.errors]
    if not result.is_valid and not errors:
        errors.append("stix2-validator: invalid")
    return errors


def parse_strict(bundle: dict[str, Any]) -> Any:
    """Parse with ``stix2`` (our extension and TLP 2.0 registered, no other custom content allowed)."""
    import stix2

    ext.register()
    return stix2.parse(bundle, allow_custom=False, version="2.1")
