package main

warn contains "a warning" if true

deny contains "a failure" if true
