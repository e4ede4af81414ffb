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
