package main

deny contains sprintf("%v", [input]) if true

warn contains sprintf("types %v %v %v %v %v", [type_name(input.enabled), type_name(input.mode), type_name(input.version), type_name(input.empty), type_name(input.when)]) if true
