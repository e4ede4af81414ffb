{{/*
Name of every object; gitgate is a cluster singleton (see values.yaml).
*/}}
{{- define "gitgate.fullname" -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gitgate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gitgate.selectorLabels" -}}
app.kubernetes.io/name: gitgate
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "gitgate.labels" -}}
{{ include "gitgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "gitgate.chart" . }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "gitgate.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "gitgate.certManager" -}}
{{- if eq .Values.certificates.mode "certManager" }}true{{ end -}}
{{- end -}}

{{/* Secret of the builtin CA (--cert-secret). */}}
{{- define "gitgate.builtinSecretName" -}}
{{- default (printf "%s-webhook-ca" (include "gitgate.fullname" .)) .Values.certificates.builtinSecretName -}}
{{- end -}}

{{/* Secret cert-manager writes the serving certificate into. */}}
{{- define "gitgate.certManagerSecretName" -}}
{{- default (printf "%s-webhook-tls" (include "gitgate.fullname" .)) .Values.certificates.certManager.secretName -}}
{{- end -}}

{{- define "gitgate.leaderElectionID" -}}
{{- printf "%s-leader" (include "gitgate.fullname" .) -}}
{{- end -}}

{{/*
Namespaces the webhook configurations leave out, as webhook/config computes
them: config.SystemNamespaces, gitgate's namespace and the exempt ones,
sorted, without duplicates. Returned as JSON {"names": [...]}.
*/}}
{{- define "gitgate.exemptNamespaces" -}}
{{- $names := concat (list "kube-system" "kube-node-lease" .Release.Namespace) .Values.webhook.exemptNamespaces | uniq | sortAlpha -}}
{{- toJson (dict "names" $names) -}}
{{- end -}}

{{/*
The managed resources that get webhook rules, as webhook/config's
splitResources sorts them: those config.NeverSent names dropped (Events and
Leases are written by the control plane all the time and never come from Git;
the API server never sends admission configurations to webhooks), split into
namespaced and cluster-scoped, each sorted by group, then resource. A space
joins the sort key: it sorts before every character a group or resource name
may hold, so "apps" sorts before "apps.example.com" as in a comparison of the
(group, resource) pairs. Returned as JSON {"namespaced": [...], "cluster": [...]}.
*/}}
{{- define "gitgate.webhookResources" -}}
{{- $neverSent := list "/events" "events.k8s.io/events" "coordination.k8s.io/leases" "admissionregistration.k8s.io/validatingwebhookconfigurations" "admissionregistration.k8s.io/mutatingwebhookconfigurations" "admissionregistration.k8s.io/validatingadmissionpolicies" "admissionregistration.k8s.io/validatingadmissionpolicybindings" "admissionregistration.k8s.io/mutatingadmissionpolicies" "admissionregistration.k8s.io/mutatingadmissionpolicybindings" -}}
{{- $byKey := dict -}}
{{- range .Values.managedResources -}}
{{- $id := printf "%s/%s" .group .resource -}}
{{- $key := printf "%s %s" .group .resource -}}
{{- if hasKey $byKey $key -}}
{{- fail (printf "managedResources lists %s twice" $id) -}}
{{- end -}}
{{- if not (has $id $neverSent) -}}
{{- $_ := set $byKey $key . -}}
{{- end -}}
{{- end -}}
{{- $namespaced := list -}}
{{- $cluster := list -}}
{{- range $key := keys $byKey | sortAlpha -}}
{{- $r := get $byKey $key -}}
{{- if $r.namespaced -}}
{{- $namespaced = append $namespaced $r -}}
{{- else -}}
{{- $cluster = append $cluster $r -}}
{{- end -}}
{{- end -}}
{{- toJson (dict "namespaced" $namespaced "cluster" $cluster) -}}
{{- end -}}

{{/*
The webhooks of one configuration. Arguments (a dict): root (the top
context), kind ("validate" or "mutate"). One webhook per scope that has
resources (and the validating cluster-scoped one always), as webhook/config's
Scope.Validating and Scope.Mutating build them.
*/}}
{{- define "gitgate.webhooks" -}}
{{- $root := .root -}}
{{- $validate := eq .kind "validate" -}}
{{- $resources := include "gitgate.webhookResources" $root | fromJson -}}
{{- $exempt := (include "gitgate.exemptNamespaces" $root | fromJson).names -}}
{{- $operations := list "CREATE" "UPDATE" -}}
{{- if $validate }}{{ $operations = append $operations "DELETE" }}{{ end -}}
{{- $parts := list -}}
{{- if $resources.namespaced -}}
{{- $parts = append $parts (dict "name" (printf "namespaced.%s.gitgate.dev" .kind) "scope" "Namespaced" "resources" $resources.namespaced) -}}
{{- end -}}
{{- /*
The validating configuration always has the cluster-scoped webhook: it
carries the rule for GitSource status (config.SourceStatusRule), which holds
each source's rollback ledger and which only gitgate's own service account
may write, whatever the managed resources are.
*/ -}}
{{- if or $resources.cluster $validate -}}
{{- $parts = append $parts (dict "name" (printf "cluster.%s.gitgate.dev" .kind) "scope" "Cluster" "resources" $resources.cluster) -}}
{{- end -}}
{{- /* No webhooks, no key (as webhook/config leaves it out). */ -}}
{{- if $parts }}
webhooks:
{{- range $part := $parts }}
  - name: {{ $part.name }}
    admissionReviewVersions: ["v1"]
    clientConfig:
      service:
        name: {{ include "gitgate.fullname" $root }}
        namespace: {{ $root.Release.Namespace }}
        path: {{ ternary "/validate" "/mutate" $validate }}
        port: 443
    failurePolicy: {{ $root.Values.webhook.failurePolicy }}
    matchPolicy: Equivalent
    sideEffects: None
    timeoutSeconds: {{ $root.Values.webhook.timeoutSeconds }}
    {{- if not $validate }}
    reinvocationPolicy: Never
    {{- end }}
    namespaceSelector:
      matchExpressions:
        - key: kubernetes.io/metadata.name
          operator: NotIn
          values: {{ toJson $exempt }}
    objectSelector: {}
    rules:
      {{- range $r := $part.resources }}
      - apiGroups: [{{ $r.group | quote }}]
        apiVersions: [{{ $r.version | quote }}]
        operations: {{ toJson $operations }}
        resources:
          - {{ $r.resource }}
          {{- if $validate }}
          {{- range $sub := $r.subresources | default list | uniq | sortAlpha }}
          - {{ printf "%s/%s" $r.resource $sub }}
          {{- end }}
          {{- end }}
        scope: {{ $part.scope }}
      {{- end }}
      {{- if and $validate (eq $part.scope "Cluster") }}
      - apiGroups: ["gitgate.dev"]
        apiVersions: ["*"]
        operations: ["UPDATE"]
        resources:
          - gitsources/status
        scope: Cluster
      {{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Annotations of the webhook configurations. */}}
{{- define "gitgate.webhookAnnotations" -}}
{{- if include "gitgate.certManager" . -}}
cert-manager.io/inject-ca-from: {{ printf "%s/%s" .Release.Namespace (include "gitgate.fullname" .) }}
{{- end -}}
{{- end -}}

{{/*
Seconds in a Go duration string ("25s", "1m30s", "1500ms"), as a float.
*/}}
{{- define "gitgate.seconds" -}}
{{- $units := dict "ns" 0.000000001 "us" 0.000001 "µs" 0.000001 "ms" 0.001 "s" 1.0 "m" 60.0 "h" 3600.0 -}}
{{- $total := 0.0 -}}
{{- range regexFindAll "[0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h)" . -1 -}}
{{- $number := regexFind "^[0-9]+(\\.[0-9]+)?" . -}}
{{- $total = addf $total (mulf (float64 $number) (get $units (trimPrefix $number .))) -}}
{{- end -}}
{{- $total -}}
{{- end -}}

{{/*
Checks across values that gitgate serve would otherwise refuse at start (a
crash-looping release) or that would cut its shutdown short.
*/}}
{{- define "gitgate.validate" -}}
{{- $shutdown := include "gitgate.seconds" .Values.server.shutdownTimeout | float64 -}}
{{- if le $shutdown (float64 .Values.webhook.timeoutSeconds) -}}
{{- fail (printf "server.shutdownTimeout (%s) must be longer than webhook.timeoutSeconds (%ds): admission requests in flight get that long to finish" .Values.server.shutdownTimeout (int .Values.webhook.timeoutSeconds)) -}}
{{- end -}}
{{- if and (not .Values.server.leaderElection) (gt (int .Values.replicas) 1) -}}
{{- fail (printf "server.leaderElection is off with %d replicas: every replica would apply and revert drift at once; turn it on or run one replica" (int .Values.replicas)) -}}
{{- end -}}
{{- with .Values.podDisruptionBudget -}}
{{- if and .enabled (kindIs "float64" .minAvailable) (ge (int .minAvailable) (int $.Values.replicas)) -}}
{{- fail (printf "podDisruptionBudget.minAvailable (%d) must be below replicas (%d), or no replica can ever be evicted and node drains hang" (int .minAvailable) (int $.Values.replicas)) -}}
{{- end -}}
{{- end -}}
{{- if le (float64 .Values.terminationGracePeriodSeconds) $shutdown -}}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be longer than server.shutdownTimeout (%s), or the kubelet kills gitgate before it has drained" (int .Values.terminationGracePeriodSeconds) .Values.server.shutdownTimeout) -}}
{{- end -}}
{{- end -}}
