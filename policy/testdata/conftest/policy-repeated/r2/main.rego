package main

deny contains "from r2" if true
