package main

deny contains "always" if true

warn contains "also" if true

exception contains rules if {
	rules := [""]
}
