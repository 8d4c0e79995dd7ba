#!/usr/bin/env python3
"""Validates JSON bodies against NHA's ABDM OpenAPI specs: an independent check of our wire types.

Input: JSON lines, each {"method", "path", "kind": "request"|"response", "status"?, "body",
"spec_path"?, "headers"?} (headers: the names sent; each header the operation requires must be
among them) (spec_path: validate against another operation's schema, for endpoints the specs name
differently), or exchange-log lines {"direction", "method", "path", "status", "body"}.
Each body is validated against every spec in the folder that defines that method and path.
Prints one line per failure and a closing line "N passed, N failed" (bodies with no schema are
counted as skipped). Exit status 1 if any failed.

Usage: openapi_validate.py SPEC_DIR FILE.jsonl [--strip-prefix /gateway ...]
"""
import json
import sys
from pathlib import Path

import yaml
from openapi_schema_validator import OAS30Validator
from jsonschema import FormatChecker

SPECS = ["gateway-0.5.yaml", "hip-0.5.yaml", "hiu-0.5.yaml", "cm-0.5.yaml", "healthid-1.0.yaml",
         "newer-abha-v3-enrollment.abdm-docs.yaml",
         "v3/hiecm-gateway.yaml", "v3/hiecm-link-token.yaml", "v3/hiecm-hip-initiated-linking.yaml",
         "v3/hiecm-user-initiated-linking.yaml", "v3/hiecm-patient-share.yaml",
         "v3/hiecm-consent-data-flow.yaml"]

# NHA's ABHA v3 enrolment file types most bodies as a bare string: it is read for its headers only.
HEADERS_ONLY = {"newer-abha-v3-enrollment.abdm-docs.yaml"}

# NHA's v3 files declare several "either a result or an error" bodies with both sides required
# (their README, "Schema quirks"): a side may be missing when the other is there. Nothing else is
# forgiven, except two faults of the same files: a `required` naming a property the schema does not
# define (NHA's own corrections drop them), and the data request's nonce typed as a UUID where every
# peer sends base64 of 32 bytes (reference notes abdm-v3.md §3.6).
EITHER_OR = {
    "/api/v3/hiu/consent/request/on-init": {"consentRequest", "error"},
    "/api/v3/hiu/consent/request/on-status": {"consentRequest", "error"},
    "/api/v3/hiu/consent/on-fetch": {"consent", "error"},
    "/api/hiecm/patient-share/v3/on-share": {"acknowledgement", "error"},
    "/api/v3/hiu/patient/on-share": {"acknowledgement", "error"},
    "/api/hiecm/user-initiated-linking/v3/patient/care-context/on-discover": {"patient", "matchedBy", "error"},
    "/api/hiecm/user-initiated-linking/v3/link/care-context/on-init": {"link", "error"},
    "/api/hiecm/user-initiated-linking/v3/link/care-context/on-confirm": {"patient", "error"},
}
# on-status also requires a legacy `resp` that nothing reads.
LEGACY = {"/api/v3/hiu/consent/request/on-status": {"resp"}}
# The HIP's consent notification requires the artefact's detail even on REVOKED and EXPIRED.
THIN_WHEN_ENDED = {"consentDetail", "signature", "grantAcknowledgement"}

# Endpoints ABDM serves under another name than NHA's specs, validated against the spec's twin.
ALIASES = {
    "/v2/registration/aadhaar/checkAndGenerateMobileOTP": "/v1/registration/aadhaar/generateMobileOTP",
    "/v1.0/patients/profile/share": "/v0.5/patients/profile/share",
    "/v1.0/patients/profile/on-share": "/v0.5/patients/profile/on-share",
}


def load(spec_dir):
    specs = []
    for name in SPECS:
        with open(Path(spec_dir) / name) as f:
            specs.append((name, yaml.safe_load(f)))
    return specs


def inline_refs(spec, node):
    """Resolves local $refs so each schema validates on its own."""
    if isinstance(node, dict):
        if "$ref" in node:
            parts = node["$ref"].lstrip("#/").split("/")
            target = spec
            for p in parts:
                target = target[p]
            return inline_refs(spec, target)
        return {k: inline_refs(spec, v) for k, v in node.items()}
    if isinstance(node, list):
        return [inline_refs(spec, x) for x in node]
    return node


def operation(spec, method, path):
    """The operation for a concrete path, matching `{param}` segments of templated paths."""
    paths = spec.get("paths", {})
    if path in paths:
        return paths[path].get(method.lower())
    parts = path.strip("/").split("/")
    for template, ops in paths.items():
        tparts = template.strip("/").split("/")
        if len(tparts) == len(parts) and all(
            t == p or (t.startswith("{") and t.endswith("}")) for t, p in zip(tparts, parts)
        ):
            return ops.get(method.lower())
    return None


def required_headers(specs, method, path):
    """Per spec that defines this operation, the header parameters it requires (besides
    Authorization). A path both the HIP and the HIU specs define needs one side's, not both.
    Only the v3 files count: v0.5's mark both X-HIP-ID and X-HIU-ID required on every callback,
    where one of them is meant, and put the request id in the body."""
    per_spec = []
    for name, spec in specs:
        if not (name.startswith("v3/") or name in HEADERS_ONLY):
            continue
        op = operation(spec, method, path)
        if not op:
            continue
        names = set()
        for param in inline_refs(spec, op.get("parameters", [])):
            if param.get("in") == "header" and param.get("required") and param.get("name", "").lower() != "authorization":
                names.add(param["name"])
        per_spec.append(names)
    return per_spec


def tolerated(path, body, error):
    """Whether `error` is one of NHA's listed quirks (see EITHER_OR)."""
    if error.validator in ("oneOf", "anyOf"):
        branches = {}
        for sub in error.context or []:
            branches.setdefault(sub.schema_path[0] if sub.schema_path else 0, []).append(sub)
        return any(all(tolerated(path, body, e) for e in errs) for errs in branches.values())
    if error.validator == "format" and list(error.absolute_path)[-2:] == ["keyMaterial", "nonce"]:
        return True
    if error.validator != "required":
        return False
    missing = error.message.split("'")[1] if "'" in error.message else ""
    if missing not in (error.schema.get("properties") or {}):
        return True
    top = not list(error.absolute_path)
    sides = EITHER_OR.get(path, set())
    if top and isinstance(body, dict) and missing in sides:
        if missing == "error":
            return any(k in body for k in sides - {"error"})
        return "error" in body
    if top and missing in LEGACY.get(path, set()):
        return True
    if path == "/api/v3/consent/request/hip/notify" and missing in THIN_WHEN_ENDED:
        return (body.get("notification") or {}).get("status") in ("REVOKED", "EXPIRED")
    return False


def schemas_for(specs, method, path, kind, status):
    found = []
    for name, spec in specs:
        if name in HEADERS_ONLY:
            continue
        op = operation(spec, method, path)
        if not op:
            continue
        if kind == "request":
            body = op.get("requestBody")
            if body is None:
                continue
            body = inline_refs(spec, body)
            content = body.get("content", {})
        else:
            responses = op.get("responses", {})
            resp = responses.get(str(status)) or responses.get(int(status)) if status else None
            if resp is None:
                continue
            content = inline_refs(spec, resp).get("content", {})
        for ctype in ("application/json", "*/*"):
            if ctype in content and "schema" in content[ctype]:
                found.append((name, content[ctype]["schema"]))
                break
    return found


def main():
    spec_dir, data = sys.argv[1], sys.argv[2]
    prefixes = []
    args = sys.argv[3:]
    while args:
        if args[0] == "--strip-prefix":
            prefixes.append(args[1])
            args = args[2:]
        else:
            sys.exit(f"unknown argument {args[0]}")
    specs = load(spec_dir)
    passed = failed = skipped = 0
    operations = set()
    with open(data) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            item = json.loads(line)
            body = item.get("body")
            if (body is None or body == "") and not isinstance(item.get("response"), (dict, list)):
                skipped += 1
                continue
            if isinstance(body, str):
                try:
                    body = json.loads(body)
                except ValueError:
                    print(f"line {number}: {item.get('path')}: body is not JSON")
                    failed += 1
                    continue
            path = item.get("spec_path") or item.get("operation") or item["path"]
            for prefix in prefixes:
                if path.startswith(prefix):
                    path = path[len(prefix):]
            path = ALIASES.get(path, path)
            kind = item.get("kind")
            if kind is None:
                # Exchange log: a request is what was sent to the path; its answer is a response.
                kind = "request"
            schemas = schemas_for(specs, item["method"], path, kind, item.get("status")) if body not in (None, "") else []
            has_response_schema = bool(schemas_for(specs, item["method"], path, "response", item.get("status") or 200))
            if not schemas and not (isinstance(item.get("response"), (dict, list)) and has_response_schema):
                skipped += 1
                continue
            errors = []
            headers = item.get("headers")
            if headers is not None and kind == "request":
                sent = {h.lower() for h in headers}
                missing = [sorted(h for h in need if h.lower() not in sent)
                           for need in required_headers(specs, item["method"], path)]
                if missing and all(missing):
                    for header in min(missing, key=len):
                        errors.append(f"{item['method']} {path}: required header {header} missing")
            for name, schema in schemas:
                validator = OAS30Validator(schema, format_checker=FormatChecker())
                for error in validator.iter_errors(body):
                    if tolerated(path, body, error):
                        continue
                    where = "/".join(str(p) for p in error.absolute_path)
                    errors.append(f"{name} {item['method']} {path} {kind}: at '{where}': {error.message}")
            # A synchronous answer we logged is checked against the response schema too.
            response = item.get("response")
            status = item.get("status")
            if isinstance(response, (dict, list)) and status and 200 <= int(status) < 300:
                for name, schema in schemas_for(specs, item["method"], path, "response", status):
                    validator = OAS30Validator(schema, format_checker=FormatChecker())
                    for error in validator.iter_errors(response):
                        where = "/".join(str(p) for p in error.absolute_path)
                        errors.append(f"{name} {item['method']} {path} response {status}: at '{where}': {error.message}")
            if errors:
                failed += 1
                print(f"line {number}: " + "\n  ".join(errors[:5]))
            else:
                passed += 1
                operations.add((item["method"], path))
    print(f"{len(operations)} distinct specified operations")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
