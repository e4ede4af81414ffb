package main

warn contains "main: always" if true
