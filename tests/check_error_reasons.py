#!/usr/bin/env python3
"""Fails when the code uses an error reason that crm.common.v1.ErrorReason
(proto/crm/common/v1/errors.proto) does not list, or when the enum repeats a
number. A reason is any ALL_CAPS_WITH_UNDERSCORES string literal in services/
or libs/ C++ code, except configuration variables (CRM_*) and the canonical
gRPC status code names."""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
GRPC_CODES = {
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
    "UNAUTHENTICATED"}

enum_text = (root / "proto/crm/common/v1/errors.proto").read_text()
entries = re.findall(r"^\s+([A-Z][A-Z0-9_]*)\s*=\s*(\d+)\s*;", enum_text, re.M)
enum = {name for name, _ in entries}
numbers = [n for _, n in entries]
problems = []
for n in sorted(set(numbers)):
    if numbers.count(n) > 1:
        problems.append("ErrorReason number %s is used %d times" % (n, numbers.count(n)))

used = {}
for path in sorted(list(root.glob("services/**/*.cc")) + list(root.glob("services/**/*.h")) +
                   list(root.glob("libs/**/*.cc")) + list(root.glob("libs/**/*.h"))):
    for lineno, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        for name in re.findall(r'"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"', line):
            if name.startswith("CRM_") or name in GRPC_CODES:
                continue
            used.setdefault(name, "%s:%d" % (path.relative_to(root), lineno))
for name, where in sorted(used.items()):
    if name not in enum:
        problems.append("reason %s (%s) is missing from ErrorReason in errors.proto" % (name, where))

if problems:
    print("\n".join(problems))
    sys.exit(1)
print("error reasons ok: %d used, %d listed" % (len(used), len(enum)))
