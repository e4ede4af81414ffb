package main

deny contains "first body" if input.a == 1

deny contains "second body" if input.a == 2

deny contains "third body" if input.a == 3

warn_x contains "x" if input.a == 1

warn_x contains "x2" if input.a == 9
