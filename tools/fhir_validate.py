#!/usr/bin/env python3
"""Validates FHIR R4 bundles with fhir.resources 6.4.0 (R4 4.0.1 models, pydantic 1): an independent
structural check of what we emit. Prints one line per failure and "N passed, N failed".

Usage: fhir_validate.py FILE.json...
"""
import sys

from fhir.resources.bundle import Bundle

passed = failed = 0
for path in sys.argv[1:]:
    try:
        Bundle.parse_file(path)
        passed += 1
    except Exception as e:  # pydantic.ValidationError and JSON errors alike
        failed += 1
        print(f"{path}: {e}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
