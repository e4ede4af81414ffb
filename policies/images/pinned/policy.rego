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

require_digest := k8s.parameter(["images", "pinned", "require_digest"], false)

deny contains k8s.violation(policy, msg, {"field": field, "container": c.name, "value": image}) if {
	some c in k8s.containers
	image := object.get(c.container, "image", "")
	not usable(image)
	field := sprintf("%s.image", [c.path])
	msg := sprintf("container %q has no image (%s)", [c.name, field])
}

deny contains k8s.violation(policy, msg, {"field": field, "container": c.name, "value": image}) if {
	some c in k8s.containers
	image := c.container.image
	usable(image)
	ref := images.parse(image)
	ref.digest != ""
	not images.valid_digest(ref.digest)
	field := sprintf("%s.image", [c.path])
	msg := sprintf("container %q uses image %q with a malformed digest (%s)", [c.name, image, field])
}

deny contains k8s.violation(policy, msg, {"field": field, "container": c.name, "value": image}) if {
	some c in k8s.containers
	image := c.container.image
	usable(image)
	ref := images.parse(image)
	ref.digest == ""
	ref.tag in {"", "latest"}
	field := sprintf("%s.image", [c.path])
	msg := sprintf("container %q uses image %q, which is not pinned: name a version tag and a digest, as in %s:1.2.3@sha256:<digest> (%s)", [c.name, image, ref.name, field])
}

deny contains k8s.violation(policy, msg, {"field": field, "container": c.name, "value": image}) if {
	require_digest == true
	some [field, c, image] in tag_only
	msg := sprintf("container %q uses image %q, pinned by tag only: add its digest, as in %s@sha256:<digest> (%s)", [c.name, image, image, field])
}

warn contains k8s.violation(policy, msg, {"field": field, "container": c.name, "value": image}) if {
	require_digest != true
	some [field, c, image] in tag_only
	msg := sprintf("container %q uses image %q, pinned by tag only: a tag can be moved, a digest cannot; consider %s@sha256:<digest> (%s)", [c.name, image, image, field])
}

# tag_only holds [field, container, image] for images with a version tag
# and no digest.
tag_only contains [field, c, image] if {
	some c in k8s.containers
	image := c.container.image
	usable(image)
	ref := images.parse(image)
	ref.digest == ""
	not ref.tag in {"", "latest"}
	field := sprintf("%s.image", [c.path])
}

# usable is true for an image reference that is a non-empty string that
# parses; anything else is reported as a missing image.
usable(image) if {
	is_string(image)
	image != ""
	images.parse(image)
}
