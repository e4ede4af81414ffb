# METADATA
# title: Pinned images
# description: >-
#   Every container, init container and ephemeral container must name an
#   image that cannot change under it. An image without a tag or with the
#   tag "latest" and no digest is denied; an image with a tag but no digest
#   gets a warning (a tag can be moved), or is denied when require_digest is
#   true; an image pinned by digest (name@sha256:...) passes. A missing
#   image or a malformed digest is denied.
# custom:
#   id: images.pinned
#   severity: medium
#   parameters:
#     - name: require_digest
#       data: gitgate.parameters.images.pinned.require_digest
#       type: boolean
#       default: false
#       description: deny, rather than warn about, images pinned by tag only
package gitgate.images.pinned

import data.gitgate.lib.images
import data.gitgate.lib.kubernetes as k8s

policy := {"id": "images.pinned", "severity": "medium"}

default require_digest := false

require_digest := data.gitgate.parameters.images.pinned.require_digest if data.gitgate.parameters.images.pinned.require_digest != null

# parsed holds the containers whose image is a reference that parses, as
# {"c": <containers entry>, "image": <reference>, "ref": {"name", "tag", "digest"}}.
parsed := [{"c": c, "image": image, "ref": ref} |
	some c in k8s.containers
	image := c.container.image
	is_string(image)
	image != ""
	ref := images.parse(image)
]

parse(image) := ref if {
	is_string(image)
	image != ""
	ref := images.parse(image)
} else := null

# A container is missing from parsed only when its image is absent, not a
# string, empty or not a reference: the first rule looks at each container
# only then.
deny contains k8s.violation(policy, msg, {"field": field, "container": name, "value": image}) if {
	count(parsed) < count(k8s.containers)
	some c in k8s.containers
	image := object.get(c.container, "image", null)
	parse(image) == null
	name := k8s.container_name(c)
	field := sprintf("%s.image", [k8s.container_path(c)])
	msg := sprintf("container %q has no usable image (%s)", [name, field])
}

deny contains k8s.violation(policy, msg, {"field": field, "container": name, "value": e.image}) if {
	some e in parsed
	e.ref.digest != ""
	not images.valid_digest(e.ref.digest)
	name := k8s.container_name(e.c)
	field := sprintf("%s.image", [k8s.container_path(e.c)])
	msg := sprintf("container %q uses image %q with a malformed digest (%s)", [name, e.image, field])
}

deny contains k8s.violation(policy, msg, {"field": field, "container": name, "value": e.image}) if {
	some e in parsed
	e.ref.digest == ""
	e.ref.tag in {"", "latest"}
	name := k8s.container_name(e.c)
	field := sprintf("%s.image", [k8s.container_path(e.c)])
	msg := sprintf("container %q uses image %q, which is not pinned: name a version tag and a digest, as in %s:1.2.3@sha256:<digest> (%s)", [name, e.image, e.ref.name, field])
}

deny contains k8s.violation(policy, msg, {"field": field, "container": name, "value": e.image}) if {
	require_digest == true
	some e in tag_only
	name := k8s.container_name(e.c)
	field := sprintf("%s.image", [k8s.container_path(e.c)])
	msg := sprintf("container %q uses image %q, pinned by tag only: add its digest, as in %s@sha256:<digest> (%s)", [name, e.image, e.image, field])
}

warn contains k8s.violation(policy, msg, {"field": field, "container": name, "value": e.image}) if {
	require_digest != true
	some e in tag_only
	name := k8s.container_name(e.c)
	field := sprintf("%s.image", [k8s.container_path(e.c)])
	msg := sprintf("container %q uses image %q, pinned by tag only: a tag can be moved, a digest cannot; consider %s@sha256:<digest> (%s)", [name, e.image, e.image, field])
}

tag_only := [e |
	some e in parsed
	e.ref.digest == ""
	e.ref.tag != ""
	e.ref.tag != "latest"
]
