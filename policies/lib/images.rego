# METADATA
# title: Container image reference helpers of the gitgate policy library
# description: |
#   Splits a container image reference into name, tag and digest, and
#   normalizes the name the way the container runtime resolves it
#   (nginx is docker.io/library/nginx).
package gitgate.lib.images

# A reference is name[:tag][@digest]. The name may carry a registry port
# (localhost:5000/app), which the tag pattern cannot match because a tag
# holds no "/". parse reads references as this pattern matches them.
reference_pattern := `^([^@]+?)(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(.*))?$`

# parse returns {"name", "tag", "digest"} of image; tag and digest are ""
# when absent. Undefined for a reference that does not parse. It gives what
# matching reference_pattern gives (a test checks the two on tricky
# references) without matching the whole pattern, which took a tenth of an
# admission evaluation: the digest is everything after the first "@" (no
# newline in it), and the tag what follows the last ":" before it, when that
# is a tag and leaves a name.
parse(image) := {"name": name, "tag": tag, "digest": digest} if {
	is_string(image)
	[before, digest] := split_digest(image)
	before != ""
	[name, tag] := split_tag(before)
}

split_digest(image) := [image, ""] if {
	not contains(image, "@")
} else := [substring(image, 0, i), digest] if {
	i := indexof(image, "@")
	digest := substring(image, i + 1, -1)
	not contains(digest, "\n")
}

split_tag(before) := [name, tag] if {
	parts := split(before, ":")
	count(parts) > 1
	tag := parts[count(parts) - 1]
	name := concat(":", array.slice(parts, 0, count(parts) - 1))
	name != ""
	regex.match(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`, tag)
} else := [before, ""]

# valid_digest is true for an OCI content digest: sha256 and sha512 with
# their exact lengths, other registered algorithms with at least 32
# characters of encoded hash.
valid_digest(digest) if regex.match(`^sha256:[a-f0-9]{64}$`, digest)

valid_digest(digest) if regex.match(`^sha512:[a-f0-9]{128}$`, digest)

valid_digest(digest) if {
	not startswith(digest, "sha256:")
	not startswith(digest, "sha512:")
	regex.match(`^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$`, digest)
}

# normalize returns the fully qualified repository of an image name:
# a first path component with a "." or ":", or "localhost", is a registry;
# anything else lives on Docker Hub, and a single component is an official
# image under docker.io/library.
normalize(name) := trim_prefix(name, "index.") if {
	parts := split(name, "/")
	count(parts) > 1
	registry_host(parts[0])
	startswith(name, "index.docker.io/")
}

normalize(name) := name if {
	parts := split(name, "/")
	count(parts) > 1
	registry_host(parts[0])
	not startswith(name, "index.docker.io/")
}

normalize(name) := concat("/", ["docker.io", name]) if {
	parts := split(name, "/")
	count(parts) > 1
	not registry_host(parts[0])
}

normalize(name) := concat("/", ["docker.io/library", name]) if {
	count(split(name, "/")) == 1
}

registry_host(component) if contains(component, ".")

registry_host(component) if contains(component, ":")

registry_host("localhost")

# matches_prefix is true when repository is prefix itself or lies under it
# (prefix "ghcr.io/acme" matches "ghcr.io/acme/app", not "ghcr.io/acmex").
matches_prefix(repository, prefix) if {
	p := trim_suffix(prefix, "/")
	repository == p
}

matches_prefix(repository, prefix) if {
	p := trim_suffix(prefix, "/")
	p != ""
	startswith(repository, concat("", [p, "/"]))
}
