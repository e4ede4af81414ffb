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

# checked lists every container with its image and the parsed reference,
# null when the image is missing or does not parse. Each image is parsed once
# per evaluation.
checked := [{"c": c, "image": image, "ref": parse(image)} |
	some c in k8s.containers
	image := object.get(c.container, "image", null)
]

parse(image) := ref if {
	is_string(image)
	image != ""
	ref := images.parse(image)
} else := null

deny contains k8s.violation(policy, msg, {"field": field, "container": e.c.name, "value": e.image}) if {
	some e in checked
	e.ref == null
	field := sprintf("%s.image", [e.c.path])
	msg := sprintf("container %q has no usable image (%s)", [e.c.name, field])
}

deny contains k8s.violation(policy, msg, {"field": field, "container": e.c.name, "value": e.image}) if {
	some e in checked
	e.ref.digest != ""
	not images.valid_digest(e.ref.digest)
	field := sprintf("%s.image", [e.c.path])
	msg := sprintf("container %q uses image %q with a malformed digest (%s)", [e.c.name, e.image, field])
}

deny contains k8s.violation(policy, msg, {"field": field, "container": e.c.name, "value": e.image}) if {
	some e in checked
	e.ref.digest == ""
	e.ref.tag in {"", "latest"}
	field := sprintf("%s.image", [e.c.path])
	msg := sprintf("container %q uses image %q, which is not pinned: name a version tag and a digest, as in %s:1.2.3@sha256:<digest> (%s)", [e.c.name, e.image, e.ref.name, field])
}

deny contains k8s.violation(policy, msg, {"field": field, "container": e.c.name, "value": e.image}) if {
	require_digest == true
	some e in tag_only
	field := sprintf("%s.image", [e.c.path])
	msg := sprintf("container %q uses image %q, pinned by tag only: add its digest, as in %s@sha256:<digest> (%s)", [e.c.name, e.image, e.image, field])
}

warn contains k8s.violation(policy, msg, {"field": field, "container": e.c.name, "value": e.image}) if {
	require_digest != true
	some e in tag_only
	field := sprintf("%s.image", [e.c.path])
	msg := sprintf("container %q uses image %q, pinned by tag only: a tag can be moved, a digest cannot; consider %s@sha256:<digest> (%s)", [e.c.name, e.image, e.image, field])
}

# tag_only lists the containers whose image has a version tag and no digest.
tag_only := [e |
	some e in checked
	e.ref.digest == ""
	e.ref.tag != ""
	e.ref.tag != "latest"
]
