# METADATA
# title: Allowed registries
# description: >-
#   Every container, init container and ephemeral container must pull its
#   image from an allowed registry or repository prefix. Image names are
#   normalized first (nginx is docker.io/library/nginx); an entry matches the
#   repository itself or anything under it ("ghcr.io/acme" allows
#   "ghcr.io/acme/app" but not "ghcr.io/acmex/app"). While the parameter is
#   unset the policy admits every registry; an empty list admits none.
# custom:
#   id: images.registries
#   severity: high
#   parameters:
#     - name: allowed
#       data: gitgate.parameters.images.registries.allowed
#       type: array of strings
#       default: null
#       description: registries or repository prefixes images may come from; unset admits all
package gitgate.images.registries

import data.gitgate.lib.images
import data.gitgate.lib.kubernetes as k8s

policy := {"id": "images.registries", "severity": "high"}

default allowed := null

allowed := data.gitgate.parameters.images.registries.allowed if data.gitgate.parameters.images.registries.allowed != null

deny contains k8s.violation(policy, msg, {"field": field, "container": name, "value": image, "allowed": allowed}) if {
	is_array(allowed)
	some c in k8s.containers
	image := object.get(c.container, "image", "")
	not allowed_image(image)
	name := k8s.container_name(c)
	field := sprintf("%s.image", [k8s.container_path(c)])
	msg := sprintf("container %q uses image %q from a registry that is not allowed (%s); allowed are %s", [name, image, field, k8s.quote_list(allowed)])
}

deny contains k8s.violation(policy, msg, {"field": field, "container": name, "value": allowed}) if {
	allowed != null
	not is_array(allowed)
	some c in k8s.containers
	name := k8s.container_name(c)
	field := sprintf("%s.image", [k8s.container_path(c)])
	msg := sprintf("parameter gitgate.parameters.images.registries.allowed must be a list of registries, got %v; container %q cannot be checked", [allowed, name])
}

allowed_image(image) if {
	ref := images.parse(image)
	repository := images.normalize(ref.name)
	some prefix in allowed
	is_string(prefix)
	images.matches_prefix(repository, prefix)
}
