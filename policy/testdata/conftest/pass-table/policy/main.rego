package main

deny contains "never" if input.kind == "Nothing"

warn contains "never" if input.kind == "Nothing"
