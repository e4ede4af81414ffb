package k8sx

deny contains "k8sx: always" if true
