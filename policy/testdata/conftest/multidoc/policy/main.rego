package main

deny contains sprintf("%v is %v", [input.metadata.name, input.kind]) if input.kind != "B"

warn contains "null document" if input == null

deny_never contains "never" if false
