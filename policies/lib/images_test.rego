package gitgate.lib.images_test

import data.gitgate.lib.fixtures
import data.gitgate.lib.images

digest := "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

test_allowed_parse if {
	fixtures.all_pass({image: parses_to(image, want) | some image, want in parse_cases})
}

parse_cases := {
	"nginx": {"name": "nginx", "tag": "", "digest": ""},
	"nginx:1.27": {"name": "nginx", "tag": "1.27", "digest": ""},
	"nginx:latest": {"name": "nginx", "tag": "latest", "digest": ""},
	"localhost:5000/app": {"name": "localhost:5000/app", "tag": "", "digest": ""},
	"localhost:5000/app:v2": {"name": "localhost:5000/app", "tag": "v2", "digest": ""},
	sprintf("ghcr.io/acme/app@%s", [digest]): {"name": "ghcr.io/acme/app", "tag": "", "digest": digest},
	sprintf("ghcr.io/acme/app:1.0@%s", [digest]): {"name": "ghcr.io/acme/app", "tag": "1.0", "digest": digest},
}

# parse agrees with matching reference_pattern, on references that probe
# each part of the pattern: ports, several colons, empty and leading parts,
# tag characters and length, several "@", newlines.
test_parse_matches_pattern if {
	long_tag := concat("", [x | some _ in numbers.range(1, 8); x := "0123456789abcdef"])
	fixtures.all_pass({image: same_parse(image) | some image in [
		"nginx", "nginx:1.27", "localhost:5000/app", "localhost:5000/app:v2",
		"a:b:c", "a:", ":", ":tag", "::", "a::b", "a:-x", "a:_x", "a:.x", "a:B.c-D_e",
		concat("", ["a:", long_tag]), concat("", ["a:", long_tag, "0"]),
		"a:b/c", "a/b:c", "@", "@x", "a@", "a@b@c", "a:b@c:d", ":@x", "a:t@",
		"a\nb", "a:b\nc", "a@b\nc", "a\n:b@c", "", " ", "a b:c d", "é:ü@ß",
		sprintf("ghcr.io/acme/app:1.0@%s", [digest]),
	]})
}

same_parse(image) if {
	images.parse(image) == pattern_parse(image)
} else if {
	not images.parse(image)
	not pattern_parse(image)
} else := false

pattern_parse(image) := {"name": m[1], "tag": m[2], "digest": m[3]} if {
	m := regex.find_all_string_submatch_n(images.reference_pattern, image, 1)[0]
}

parses_to(image, want) if {
	images.parse(image) == want
} else := false

test_allowed_valid_digests if {
	fixtures.all_pass({d: valid(d) | some d in [
		digest,
		concat("", ["sha512:", concat("", [x | some _ in numbers.range(1, 4); x := "0123456789abcdef0123456789abcdef"])]),
		"blake3:0123456789abcdef0123456789abcdef",
	]})
}

valid(d) if {
	images.valid_digest(d)
} else := false

test_denied_invalid_digests if {
	fixtures.all_pass({d: not_valid(d) | some d in ["sha256:abc", "sha256:XYZ", "", "sha256", "md5:0123abcd", "Sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", concat("", [digest, "0"])]})
}

not_valid(d) if {
	not images.valid_digest(d)
} else := false

test_allowed_normalize if {
	fixtures.all_pass({name: normalizes_to(name, want) | some name, want in normalize_cases})
}

normalizes_to(name, want) if {
	images.normalize(name) == want
} else := false

normalize_cases := {
	"nginx": "docker.io/library/nginx",
	"bitnami/redis": "docker.io/bitnami/redis",
	"docker.io/library/nginx": "docker.io/library/nginx",
	"index.docker.io/library/nginx": "docker.io/library/nginx",
	"ghcr.io/acme/app": "ghcr.io/acme/app",
	"localhost/app": "localhost/app",
	"localhost:5000/app": "localhost:5000/app",
	"registry.example.com/team/app": "registry.example.com/team/app",
}

test_allowed_prefix_matches if {
	images.matches_prefix("ghcr.io/acme/app", "ghcr.io/acme")
	images.matches_prefix("ghcr.io/acme/app", "ghcr.io/acme/")
	images.matches_prefix("ghcr.io/acme/app", "ghcr.io")
	images.matches_prefix("ghcr.io/acme/app", "ghcr.io/acme/app")
}

test_denied_prefix_mismatches if {
	not images.matches_prefix("ghcr.io/acmex/app", "ghcr.io/acme")
	not images.matches_prefix("ghcr.io.evil.com/app", "ghcr.io")
	not images.matches_prefix("ghcr.io/acme/app", "")
	not images.matches_prefix("ghcr.io/acme/app", "/")
}
