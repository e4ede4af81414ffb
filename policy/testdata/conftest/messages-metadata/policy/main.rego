package main

deny contains "a plain string message" if input.kind == "Pod"

deny_object contains {"msg": "an object message", "id": "K8S-001", "severity": "high", "tags": ["a", "b"], "details": {"n": 1.5, "ok": true, "none": null}} if input.kind == "Pod"

violation contains {"msg": "a violation with a location", "_loc": {"file": "pod.yaml", "line": 4}} if input.kind == "Pod"

violation_other contains {"msg": "elsewhere", "_loc": {"file": "other/file.yaml", "line": 7}} if input.kind == "Pod"

warn_html contains "<script> & \"quotes\"" if input.kind == "Pod"

warn contains {"msg": sprintf("number: %v", [input.spec.count]), "count": input.spec.count} if input.kind == "Pod"

# Elements that are neither strings nor objects are ignored by conftest.
deny_numbers contains 42 if input.kind == "Pod"

# An empty message counts as a pass in conftest.
deny_empty contains "" if input.kind == "Pod"
