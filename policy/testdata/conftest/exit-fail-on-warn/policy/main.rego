package main

warn contains "a warning" if true
