package gitgate.lib.images_test

import data.gitgate.lib.images

digest := "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

test_allowed_parse[image] if {
	some image, want in {
		"nginx": {"name": "nginx", "tag": "", "digest": ""},
		"nginx:1.27": {"name": "nginx", "tag": "1.27", "digest": ""},
		"nginx:latest": {"name": "nginx", "tag": "latest", "digest": ""},
		"localhost:5000/app": {"name": "localhost:5000/app", "tag": "", "digest": ""},
		"localhost:5000/app:v2": {"name": "localhost:5000/app", "tag": "v2", "digest": ""},
		sprintf("ghcr.io/acme/app@%s", [digest]): {"name": "ghcr.io/acme/app", "tag": "", "digest": digest},
		sprintf("ghcr.io/acme/app:1.0@%s", [digest]): {"name": "ghcr.io/acme/app", "tag": "1.0", "digest": digest},
	}
	images.parse(image) == want
}

test_allowed_valid_digests[d] if {
	some d in [
		digest,
		concat("", ["sha512:", concat("", [x | some _ in numbers.range(1, 4); x := "0123456789abcdef0123456789abcdef"])]),
		"blake3:0123456789abcdef0123456789abcdef",
	]
	images.valid_digest(d)
}

test_denied_invalid_digests[d] if {
	some d in ["sha256:abc", "sha256:XYZ", "", "sha256", "md5:0123abcd", "Sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", concat("", [digest, "0"])]
	not images.valid_digest(d)
}

test_allowed_normalize[name] if {
	some name, want in {
		"nginx": "docker.io/library/nginx",
		"bitnami/redis": "docker.io/bitnami/redis",
		"docker.io/library/nginx": "docker.io/library/nginx",
		"index.docker.io/library/nginx": "docker.io/library/nginx",
		"ghcr.io/acme/app": "ghcr.io/acme/app",
		"localhost/app": "localhost/app",
		"localhost:5000/app": "localhost:5000/app",
		"registry.example.com/team/app": "registry.example.com/team/app",
	}
	images.normalize(name) == want
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
