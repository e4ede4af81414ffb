package main

deny contains "from two" if true
