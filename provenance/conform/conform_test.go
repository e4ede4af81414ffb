package conform

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

// obj decodes YAML the way a Git manifest is decoded (numbers as float64).
func obj(t testing.TB, y string) map[string]any {
	t.Helper()
	j, err := yaml.YAMLToJSON([]byte(y))
	if err != nil {
		t.Fatalf("yaml: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(j, &m); err != nil {
		t.Fatalf("json: %v", err)
	}
	return m
}

// liveObj decodes YAML the way an object from the API server is decoded by
// client-go's unstructured decoder (integers as int64).
func liveObj(t testing.TB, y string) map[string]any {
	t.Helper()
	j, err := yaml.YAMLToJSON([]byte(y))
	if err != nil {
		t.Fatalf("yaml: %v", err)
	}
	d := json.NewDecoder(bytes.NewReader(j))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("json: %v", err)
	}
	return toInt64(m).(map[string]any)
}

func toInt64(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = toInt64(e)
		}
	case []any:
		for i, e := range x {
			x[i] = toInt64(e)
		}
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	}
	return v
}

type want struct {
	path string
	kind DiffKind
}

func paths(diffs []Diff) []want {
	out := make([]want, 0, len(diffs))
	for _, d := range diffs {
		out = append(out, want{d.Path, d.Kind})
	}
	return out
}

const deployHead = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
`

type conformCase struct {
	name    string
	desired string
	live    string
	want    []want // nil: conforms
}

func runCases(t *testing.T, cases []conformCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ok, diffs := Conforms(obj(t, tc.desired), liveObj(t, tc.live))
			if ok != (len(tc.want) == 0) {
				t.Errorf("Conforms = %v, diffs %v", ok, diffs)
			}
			if d := cmp.Diff(tc.want, paths(diffs), cmp.AllowUnexported(want{})); d != "" && len(tc.want) > 0 {
				t.Errorf("diffs (-want +got):\n%s\n%v", d, diffs)
			}
		})
	}
}

func TestScalarsAndDefaults(t *testing.T) {
	runCases(t, []conformCase{
		{
			name:    "identical",
			desired: deployHead + `spec: {replicas: 3, selector: {matchLabels: {app: web}}}`,
			live:    deployHead + `spec: {replicas: 3, selector: {matchLabels: {app: web}}}`,
		},
		{
			name:    "server defaults are free",
			desired: deployHead + `spec: {replicas: 3}`,
			live: deployHead + `spec: {replicas: 3, revisionHistoryLimit: 10, progressDeadlineSeconds: 600,
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 25%, maxUnavailable: 25%}}}
status: {replicas: 3}`,
		},
		{
			name:    "changed scalar",
			desired: deployHead + `spec: {replicas: 3}`,
			live:    deployHead + `spec: {replicas: 5}`,
			want:    []want{{"spec.replicas", Changed}},
		},
		{
			name:    "missing scalar",
			desired: deployHead + `spec: {replicas: 3, paused: true}`,
			live:    deployHead + `spec: {replicas: 3}`,
			want:    []want{{"spec.paused", Missing}},
		},
		{
			name:    "type mismatch",
			desired: deployHead + `spec: {selector: {matchLabels: {app: web}}}`,
			live:    deployHead + `spec: {selector: "app=web"}`,
			want:    []want{{"spec.selector", Changed}},
		},
		{
			name:    "int-or-string keeps its type",
			desired: deployHead + `spec: {strategy: {rollingUpdate: {maxSurge: 1}}}`,
			live:    deployHead + `spec: {strategy: {rollingUpdate: {maxSurge: "1"}}}`,
			want:    []want{{"spec.strategy.rollingUpdate.maxSurge", Changed}},
		},
		{
			name:    "int-or-string percent",
			desired: deployHead + `spec: {strategy: {rollingUpdate: {maxSurge: 25%}}}`,
			live:    deployHead + `spec: {strategy: {rollingUpdate: {maxSurge: 25%}}}`,
		},
		{
			name: "service targetPort string vs number",
			desired: `apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{port: 80, targetPort: "8080"}]}`,
			live: `apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{port: 80, protocol: TCP, targetPort: 8080}]}`,
			want: []want{{"spec.ports[port=80,protocol=TCP].targetPort", Changed}},
		},
		{
			name:    "number as string is not a number",
			desired: deployHead + `spec: {replicas: 3}`,
			live:    deployHead + `spec: {replicas: "3"}`,
			want:    []want{{"spec.replicas", Changed}},
		},
	})
}

func TestNumbers(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b any
		want bool
	}{
		{"float and int64", 1.0, int64(1), true},
		{"int and float", 3, 3.0, true},
		{"json.Number int", json.Number("42"), 42.0, true},
		{"json.Number float", json.Number("0.5"), 0.5, true},
		{"different", 1.5, int64(1), false},
		{"large ints exact", int64(1<<62 + 1), int64(1<<62 + 0), false},
		{"uint64", uint64(7), int32(7), true},
		{"float32", float32(0.5), 0.5, true},
		{"string vs number", "1", 1.0, false},
		{"bool vs number", true, 1.0, false},
		{"huge uint64", uint64(1 << 63), float64(1 << 63), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := scalarEqual(nil, tc.a, tc.b); got != tc.want {
				t.Errorf("scalarEqual(%v, %v) = %v", tc.a, tc.b, got)
			}
			if got := scalarEqual(nil, tc.b, tc.a); got != tc.want {
				t.Errorf("scalarEqual(%v, %v) = %v (reversed)", tc.b, tc.a, got)
			}
		})
	}
}

const podHead = `
apiVersion: v1
kind: Pod
metadata: {name: p}
`

func TestQuantities(t *testing.T) {
	runCases(t, []conformCase{
		{
			name:    "millicores and cores",
			desired: podHead + `spec: {containers: [{name: c, resources: {limits: {cpu: 1000m, memory: 1Gi}}}]}`,
			live:    podHead + `spec: {containers: [{name: c, resources: {limits: {cpu: "1", memory: "1073741824"}}}]}`,
		},
		{
			name:    "number in Git",
			desired: podHead + `spec: {containers: [{name: c, resources: {requests: {cpu: 0.5, memory: 134217728}}}]}`,
			live:    podHead + `spec: {containers: [{name: c, resources: {requests: {cpu: 500m, memory: 128Mi}}}]}`,
		},
		{
			name:    "different amount",
			desired: podHead + `spec: {containers: [{name: c, resources: {limits: {cpu: 500m}}}]}`,
			live:    podHead + `spec: {containers: [{name: c, resources: {limits: {cpu: "1"}}}]}`,
			want:    []want{{"spec.containers[name=c].resources.limits.cpu", Changed}},
		},
		{
			name: "pvc storage",
			desired: `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {resources: {requests: {storage: 1024Mi}}}`,
			live: `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {resources: {requests: {storage: 1Gi}}, volumeMode: Filesystem}`,
		},
		{
			name:    "emptyDir sizeLimit",
			desired: podHead + `spec: {volumes: [{name: v, emptyDir: {sizeLimit: 0.5Gi}}]}`,
			live:    podHead + `spec: {volumes: [{name: v, emptyDir: {sizeLimit: 512Mi}}]}`,
		},
		{
			name: "not a quantity outside quantity fields",
			desired: `apiVersion: v1
kind: ConfigMap
metadata: {name: c}
data: {size: 1000m}`,
			live: `apiVersion: v1
kind: ConfigMap
metadata: {name: c}
data: {size: "1"}`,
			want: []want{{"data.size", Changed}},
		},
	})
}

func TestEmptyAndAbsent(t *testing.T) {
	runCases(t, []conformCase{
		{
			name:    "empty list and map dropped by the server",
			desired: podHead + `spec: {nodeSelector: {}, tolerations: [], containers: [{name: c, args: [], env: []}]}`,
			live:    podHead + `spec: {containers: [{name: c}]}`,
		},
		{
			name:    "false and zero of non-pointer fields",
			desired: podHead + `spec: {hostNetwork: false, containers: [{name: c, stdin: false, volumeMounts: [{name: v, mountPath: /v, readOnly: false}]}]}`,
			live:    podHead + `spec: {containers: [{name: c, volumeMounts: [{name: v, mountPath: /v}]}]}`,
		},
		{
			name:    "false of a non-pointer field changed to true",
			desired: podHead + `spec: {hostNetwork: false}`,
			live:    podHead + `spec: {hostNetwork: true}`,
			want:    []want{{"spec.hostNetwork", Changed}},
		},
		{
			name:    "false of a pointer field is kept by the server",
			desired: podHead + `spec: {automountServiceAccountToken: false}`,
			live:    podHead + `spec: {}`,
			want:    []want{{"spec.automountServiceAccountToken", Missing}},
		},
		{
			name:    "pointer bool in a security context",
			desired: podHead + `spec: {containers: [{name: c, securityContext: {allowPrivilegeEscalation: false}}]}`,
			live:    podHead + `spec: {containers: [{name: c, securityContext: {}}]}`,
			want:    []want{{"spec.containers[name=c].securityContext.allowPrivilegeEscalation", Missing}},
		},
		{
			name:    "empty struct selects a volume type",
			desired: podHead + `spec: {volumes: [{name: v, emptyDir: {}}]}`,
			live:    podHead + `spec: {volumes: [{name: v, hostPath: {path: /}}]}`,
			want:    []want{{"spec.volumes[name=v].emptyDir", Missing}},
		},
		{
			name: "empty storageClassName is not nil",
			desired: `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: d}
spec: {storageClassName: ""}`,
			live: `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: d}
spec: {}`,
			want: []want{{"spec.storageClassName", Missing}},
		},
		{
			name:    "null in Git is free",
			desired: deployHead + `spec: {replicas: null, template: {metadata: {creationTimestamp: null}}}`,
			live:    deployHead + `spec: {replicas: 4, template: {metadata: {}}}`,
		},
		{
			name:    "null in the object is absent",
			desired: deployHead + `spec: {replicas: 2}`,
			live:    deployHead + `spec: {replicas: null}`,
			want:    []want{{"spec.replicas", Missing}},
		},
		{
			name:    "empty string of a defaulted field",
			desired: podHead + `spec: {restartPolicy: "", containers: [{name: c, imagePullPolicy: ""}]}`,
			live:    podHead + `spec: {restartPolicy: Always, containers: [{name: c, imagePullPolicy: IfNotPresent}]}`,
		},
		{
			name:    "empty list in Git against items",
			desired: podHead + `spec: {containers: [{name: c, args: []}]}`,
			live:    podHead + `spec: {containers: [{name: c, args: [--evil]}]}`,
			want:    []want{{"spec.containers[name=c].args", Changed}},
		},
		{
			name: "server-allocated service fields",
			desired: `apiVersion: v1
kind: Service
metadata: {name: s}
spec: {clusterIP: "", clusterIPs: [], type: NodePort, ports: [{port: 80, nodePort: 0}]}`,
			live: `apiVersion: v1
kind: Service
metadata: {name: s}
spec: {clusterIP: 10.0.0.7, clusterIPs: [10.0.0.7], type: NodePort, ports: [{port: 80, protocol: TCP, nodePort: 31234}]}`,
		},
		{
			name: "headless service keeps None",
			desired: `apiVersion: v1
kind: Service
metadata: {name: s}
spec: {clusterIP: None}`,
			live: `apiVersion: v1
kind: Service
metadata: {name: s}
spec: {clusterIP: 10.0.0.7}`,
			want: []want{{"spec.clusterIP", Changed}},
		},
	})
}

func TestKeyedLists(t *testing.T) {
	runCases(t, []conformCase{
		{
			name:    "containers in another order",
			desired: podHead + `spec: {containers: [{name: a, image: a:1}, {name: b, image: b:1}]}`,
			live:    podHead + `spec: {containers: [{name: b, image: b:1, terminationMessagePath: /dev/termination-log}, {name: a, image: a:1}]}`,
		},
		{
			name:    "container image changed",
			desired: podHead + `spec: {containers: [{name: web, image: web:1}]}`,
			live:    podHead + `spec: {containers: [{name: web, image: web:2}]}`,
			want:    []want{{"spec.containers[name=web].image", Changed}},
		},
		{
			name:    "container added",
			desired: podHead + `spec: {containers: [{name: web, image: web:1}]}`,
			live:    podHead + `spec: {containers: [{name: web, image: web:1}, {name: miner, image: miner}]}`,
			want:    []want{{"spec.containers[name=miner]", Extra}},
		},
		{
			name:    "container removed",
			desired: podHead + `spec: {containers: [{name: web}, {name: log}]}`,
			live:    podHead + `spec: {containers: [{name: web}]}`,
			want:    []want{{"spec.containers[name=log]", Missing}},
		},
		{
			name:    "ephemeral container added to a Git list",
			desired: podHead + `spec: {ephemeralContainers: []}`,
			live:    podHead + `spec: {ephemeralContainers: [{name: debugger, image: busybox}]}`,
			want:    []want{{"spec.ephemeralContainers[name=debugger]", Extra}},
		},
		{
			name:    "init containers by name",
			desired: podHead + `spec: {initContainers: [{name: init, image: i:1}]}`,
			live:    podHead + `spec: {initContainers: [{name: init, image: i:2}]}`,
			want:    []want{{"spec.initContainers[name=init].image", Changed}},
		},
		{
			name:    "ports by containerPort and defaulted protocol",
			desired: podHead + `spec: {containers: [{name: dns, ports: [{containerPort: 53, protocol: UDP}, {containerPort: 53, name: dns-tcp}]}]}`,
			live:    podHead + `spec: {containers: [{name: dns, ports: [{containerPort: 53, protocol: TCP, name: dns-tcp}, {containerPort: 53, protocol: UDP}]}]}`,
		},
		{
			name:    "port protocol changed",
			desired: podHead + `spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}`,
			live:    podHead + `spec: {containers: [{name: c, ports: [{containerPort: 80, protocol: UDP}]}]}`,
			want: []want{
				{"spec.containers[name=c].ports[containerPort=80,protocol=TCP]", Missing},
				{"spec.containers[name=c].ports[containerPort=80,protocol=UDP]", Extra},
			},
		},
		{
			name: "service ports by port and protocol",
			desired: `apiVersion: v1
kind: Service
metadata: {name: s}
spec: {ports: [{name: http, port: 80, targetPort: 8080}, {name: https, port: 443, targetPort: 8443}]}`,
			live: `apiVersion: v1
kind: Service
metadata: {name: s}
spec: {ports: [{name: https, port: 443, protocol: TCP, targetPort: 9443}, {name: http, port: 80, protocol: TCP, targetPort: 8080}]}`,
			want: []want{{"spec.ports[port=443,protocol=TCP].targetPort", Changed}},
		},
		{
			name:    "env by name",
			desired: podHead + `spec: {containers: [{name: c, env: [{name: A, value: "1"}, {name: B, value: "2"}]}]}`,
			live:    podHead + `spec: {containers: [{name: c, env: [{name: B, value: "2"}, {name: A, value: "1"}, {name: LD_PRELOAD, value: /x.so}]}]}`,
			want:    []want{{"spec.containers[name=c].env[name=LD_PRELOAD]", Extra}},
		},
		{
			name:    "duplicate env names compare in order",
			desired: podHead + `spec: {containers: [{name: c, env: [{name: A, value: "1"}, {name: A, value: "2"}]}]}`,
			live:    podHead + `spec: {containers: [{name: c, env: [{name: A, value: "2"}, {name: A, value: "1"}]}]}`,
			want: []want{
				{"spec.containers[name=c].env[0].value", Changed},
				{"spec.containers[name=c].env[1].value", Changed},
			},
		},
		{
			name:    "volumeMounts by mountPath",
			desired: podHead + `spec: {containers: [{name: c, volumeMounts: [{name: a, mountPath: /a, readOnly: false}, {name: b, mountPath: /b}]}]}`,
			live:    podHead + `spec: {containers: [{name: c, volumeMounts: [{name: b, mountPath: /b}, {name: a, mountPath: /a, readOnly: true}]}]}`,
			want:    []want{{"spec.containers[name=c].volumeMounts[mountPath=\"/a\"].readOnly", Changed}},
		},
		{
			name:    "imagePullSecrets and volumes by name",
			desired: podHead + `spec: {imagePullSecrets: [{name: a}], volumes: [{name: v, configMap: {name: cm}}]}`,
			live:    podHead + `spec: {imagePullSecrets: [{name: b}], volumes: [{name: v, configMap: {name: other, defaultMode: 420}}]}`,
			want: []want{
				{"spec.imagePullSecrets[name=a]", Missing},
				{"spec.imagePullSecrets[name=b]", Extra},
				{"spec.volumes[name=v].configMap.name", Changed},
			},
		},
	})
}

func TestAtomicListsMapsAndSets(t *testing.T) {
	runCases(t, []conformCase{
		{
			name:    "args order matters",
			desired: podHead + `spec: {containers: [{name: c, args: [a, b]}]}`,
			live:    podHead + `spec: {containers: [{name: c, args: [b, a]}]}`,
			want: []want{
				{"spec.containers[name=c].args[0]", Changed},
				{"spec.containers[name=c].args[1]", Changed},
			},
		},
		{
			name:    "atomic list items conform field by field",
			desired: podHead + `spec: {tolerations: [{key: k, operator: Exists}]}`,
			live:    podHead + `spec: {tolerations: [{key: k, operator: Exists, effect: NoSchedule}]}`,
		},
		{
			name:    "atomic list grows",
			desired: podHead + `spec: {tolerations: [{key: k, operator: Exists}]}`,
			live:    podHead + `spec: {tolerations: [{key: k, operator: Exists}, {operator: Exists}]}`,
			want:    []want{{"spec.tolerations", Changed}},
		},
		{
			name:    "label selector is atomic",
			desired: deployHead + `spec: {selector: {matchLabels: {app: web}}}`,
			live:    deployHead + `spec: {selector: {matchLabels: {app: web, tier: canary}}}`,
			want:    []want{{"spec.selector.matchLabels.tier", Extra}},
		},
		{
			name:    "defaults inside an atomic struct are free",
			desired: podHead + `spec: {containers: [{name: c, env: [{name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}]}]}`,
			live:    podHead + `spec: {containers: [{name: c, env: [{name: POD_IP, valueFrom: {fieldRef: {apiVersion: v1, fieldPath: status.podIP}}}]}]}`,
		},
		{
			name: "rbac subject apiGroup defaulted",
			desired: `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: b}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}
subjects: [{kind: User, name: alice}]`,
			live: `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: b}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}]`,
		},
		{
			name: "rbac subjects are an atomic list",
			desired: `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: b}
subjects: [{kind: User, name: alice}]`,
			live: `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: b}
subjects: [{kind: User, name: alice}, {kind: User, name: mallory}]`,
			want: []want{{"subjects", Changed}},
		},
		{
			name: "service selector is an atomic map",
			desired: `apiVersion: v1
kind: Service
metadata: {name: s}
spec: {selector: {app: web}}`,
			live: `apiVersion: v1
kind: Service
metadata: {name: s}
spec: {selector: {app: web, canary: "true"}}`,
			want: []want{{"spec.selector.canary", Extra}},
		},
		{
			name:    "labels are granular",
			desired: deployHead + `spec: {template: {metadata: {labels: {app: web}}}}`,
			live:    deployHead + `spec: {template: {metadata: {labels: {app: web, injected: "true"}}}}`,
		},
		{
			name: "finalizers are a set",
			desired: `apiVersion: v1
kind: ConfigMap
metadata: {name: c, finalizers: [a, b]}`,
			live: `apiVersion: v1
kind: ConfigMap
metadata: {name: c, finalizers: [b, a, c]}`,
			want: []want{{"metadata.finalizers[=c]", Extra}},
		},
		{
			name: "finalizer removed",
			desired: `apiVersion: v1
kind: ConfigMap
metadata: {name: c, finalizers: [example.com/keep]}`,
			live: `apiVersion: v1
kind: ConfigMap
metadata: {name: c}`,
			want: []want{{"metadata.finalizers", Missing}},
		},
	})
}

func TestIgnored(t *testing.T) {
	runCases(t, []conformCase{
		{
			name: "server metadata, status and gitgate annotations",
			desired: `apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  uid: 123
  resourceVersion: "1"
  generation: 1
  creationTimestamp: "2020-01-01T00:00:00Z"
  managedFields: [{manager: git}]
  annotations:
    gitgate.dev/commit: abc
    kubectl.kubernetes.io/last-applied-configuration: "{}"
    team: shop
status: {phase: Git}
data: {a: b}`,
			live: `apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  uid: 456
  resourceVersion: "99"
  creationTimestamp: "2024-01-01T00:00:00Z"
  managedFields: [{manager: kubectl}]
  annotations:
    gitgate.dev/commit: def
    team: shop
data: {a: b}`,
		},
		{
			name: "annotation Git sets",
			desired: `apiVersion: v1
kind: ConfigMap
metadata: {name: c, annotations: {example.com/owner: shop}}`,
			live: `apiVersion: v1
kind: ConfigMap
metadata: {name: c, annotations: {example.com/owner: other, extra: free}}`,
			want: []want{{`metadata.annotations["example.com/owner"]`, Changed}},
		},
		{
			name: "namespace and name",
			desired: `apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: a}`,
			live: `apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: b}`,
			want: []want{{"metadata.namespace", Changed}},
		},
	})
}

func TestSecrets(t *testing.T) {
	const head = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
	runCases(t, []conformCase{
		{
			name:    "stringData lands in data",
			desired: head + `stringData: {user: admin}` + "\ndata: {pw: c2VjcmV0}",
			live:    head + `data: {user: YWRtaW4=, pw: c2VjcmV0}` + "\ntype: Opaque",
		},
		{
			name:    "stringData wins over data",
			desired: head + `stringData: {user: admin}` + "\ndata: {user: b3RoZXI=}",
			live:    head + `data: {user: YWRtaW4=}`,
		},
		{
			name:    "stringData changed",
			desired: head + `stringData: {user: admin}`,
			live:    head + `data: {user: cm9vdA==}`,
			want:    []want{{"data.user", Changed}},
		},
		{
			name:    "base64 with line breaks",
			desired: head + "data:\n  pem: |\n    c2VjcmV0\n    c2VjcmV0\n",
			live:    head + `data: {pem: c2VjcmV0c2VjcmV0}`,
		},
	})
	t.Run("values are redacted", func(t *testing.T) {
		_, diffs := Conforms(obj(t, head+`stringData: {user: admin}`), liveObj(t, head+`data: {user: cm9vdA==}`))
		if len(diffs) != 1 || diffs[0].Git != Redacted || diffs[0].Live != Redacted {
			t.Fatalf("diffs = %#v, want redacted values", diffs)
		}
		if s := diffs[0].String(); strings.Contains(s, "cm9vdA") || strings.Contains(s, "admin") {
			t.Errorf("secret value in %q", s)
		}
	})
}

func TestTimes(t *testing.T) {
	const head = "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: l}\n"
	runCases(t, []conformCase{
		{
			name:    "same instant, other form",
			desired: head + `spec: {renewTime: "2024-01-01T01:00:00.000000+01:00"}`,
			live:    head + `spec: {renewTime: "2024-01-01T00:00:00.000000Z"}`,
		},
		{
			name:    "other instant",
			desired: head + `spec: {renewTime: "2024-01-01T00:00:00.000000Z"}`,
			live:    head + `spec: {renewTime: "2024-01-01T00:00:01.000000Z"}`,
			want:    []want{{"spec.renewTime", Changed}},
		},
	})
}

func TestCustomResources(t *testing.T) {
	const head = "apiVersion: example.com/v1\nkind: Pipeline\nmetadata: {name: p}\n"
	runCases(t, []conformCase{
		{
			name:    "named items matched by name",
			desired: head + `spec: {steps: [{name: build, image: b:1}, {name: test, image: t:1}]}`,
			live:    head + `spec: {steps: [{name: build, image: b:1}, {name: test, image: t:2}]}`,
			want:    []want{{"spec.steps[name=test].image", Changed}},
		},
		{
			name:    "named items reordered",
			desired: head + `spec: {steps: [{name: build}, {name: test}]}`,
			live:    head + `spec: {steps: [{name: test}, {name: build}]}`,
			want:    []want{{"spec.steps", Changed}},
		},
		{
			name:    "named item added",
			desired: head + `spec: {steps: [{name: build}]}`,
			live:    head + `spec: {steps: [{name: build}, {name: deploy}]}`,
			want:    []want{{"spec.steps[name=deploy]", Extra}},
		},
		{
			name:    "false is kept by a CRD",
			desired: head + `spec: {enabled: false}`,
			live:    head + `spec: {}`,
			want:    []want{{"spec.enabled", Missing}},
		},
		{
			name:    "empty object is kept by a CRD",
			desired: head + `spec: {cache: {}}`,
			live:    head + `spec: {}`,
			want:    []want{{"spec.cache", Missing}},
		},
		{
			name:    "empty string and list equal absent",
			desired: head + `spec: {suffix: "", tags: []}`,
			live:    head + `spec: {}`,
		},
		{
			name:    "quantities are plain strings in a CRD",
			desired: head + `spec: {cpu: 1000m}`,
			live:    head + `spec: {cpu: "1"}`,
			want:    []want{{"spec.cpu", Changed}},
		},
		{
			name:    "extra fields are free",
			desired: head + `spec: {a: 1}`,
			live:    head + `spec: {a: 1, b: 2}`,
		},
	})
}

func TestDiffString(t *testing.T) {
	for _, tc := range []struct {
		d    Diff
		want string
	}{
		{Diff{Path: "spec.replicas", Kind: Changed, Git: 3.0, Live: int64(5)}, "spec.replicas: Git has 3, the object has 5"},
		{Diff{Path: "spec.paused", Kind: Missing, Git: true}, "spec.paused: Git has true, the object leaves it out"},
		{
			Diff{Path: "spec.containers[name=x]", Kind: Extra, Live: map[string]any{"name": "x", "image": "y"}},
			`spec.containers[name=x]: the object has {image: "y", name: "x"}, Git does not declare it`,
		},
		{Diff{Path: "data.a", Kind: Changed, Git: "a", Live: "b"}, `data.a: Git has "a", the object has "b"`},
		{Diff{Path: "x", Kind: Changed, Git: strings.Repeat("a", 500), Live: nil}, `x: Git has "` + strings.Repeat("a", 199) + `…, the object has null`},
	} {
		if got := tc.d.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
	if Changed.String() != "changed" || Missing.String() != "missing" || Extra.String() != "extra" || DiffKind(0).String() != "unknown" {
		t.Error("DiffKind.String")
	}
}

func TestDiffsAreSortedAndInputsUntouched(t *testing.T) {
	desired := obj(t, deployHead+`spec: {replicas: 3, paused: true, minReadySeconds: 5}`)
	live := liveObj(t, deployHead+`spec: {replicas: 4, minReadySeconds: 6}`)
	before := cmp.Diff(desired, obj(t, deployHead+`spec: {replicas: 3, paused: true, minReadySeconds: 5}`))
	for range 20 {
		_, diffs := Conforms(desired, live)
		got := paths(diffs)
		wantPaths := []want{{"spec.minReadySeconds", Changed}, {"spec.paused", Missing}, {"spec.replicas", Changed}}
		if d := cmp.Diff(wantPaths, got, cmp.AllowUnexported(want{})); d != "" {
			t.Fatalf("(-want +got):\n%s", d)
		}
	}
	if before != "" {
		t.Fatal("setup")
	}
	if d := cmp.Diff(obj(t, deployHead+`spec: {replicas: 3, paused: true, minReadySeconds: 5}`), desired); d != "" {
		t.Errorf("desired was modified:\n%s", d)
	}
	secret := obj(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: b}")
	Conforms(secret, liveObj(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: s}"))
	if _, ok := secret["stringData"]; !ok {
		t.Error("stringData removed from desired")
	}
}

func TestShapesOfBuiltInKinds(t *testing.T) {
	s := shapes.rootShape("apps/v1", "Deployment")
	if s == nil {
		t.Fatal("no shape for apps/v1 Deployment")
	}
	containers := s.fields["spec"].shape.fields["template"].shape.fields["spec"].shape.fields["containers"].shape
	if containers.list != listKeyed || len(containers.keys) != 1 || containers.keys[0].name != "name" {
		t.Errorf("containers: list %v keys %v", containers.list, containers.keys)
	}
	ports := containers.elem.fields["ports"].shape
	if len(ports.keys) != 2 || ports.keys[1].name != "protocol" || ports.keys[1].def != "TCP" {
		t.Errorf("ports keys %+v", ports.keys)
	}
	if shapes.rootShape("example.com/v1", "Thing") != nil || shapes.rootShape("", "") != nil || shapes.rootShape("a/b/c", "X") != nil {
		t.Error("shape for an unknown kind")
	}
}

// TestSharedValues: an object that holds the manifest's own maps and lists
// (as the webhook decodes one) conforms where they are, and still differs
// where it has values of its own.
func TestSharedValues(t *testing.T) {
	desired := obj(t, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: web
        image: web:1
        env: [{name: A, value: "1"}]
`)
	spec := desired["spec"].(map[string]any)
	pod := spec["template"].(map[string]any)["spec"].(map[string]any)
	container := pod["containers"].([]any)[0].(map[string]any)
	live := map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": desired["metadata"],
		"spec": map[string]any{
			"replicas": int64(3),
			"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{
				"name": "web", "image": "web:2", "env": container["env"], "imagePullPolicy": "IfNotPresent",
			}}}},
		},
	}
	got := paths(Compare(desired, live))
	wantPaths := []want{
		{"spec.replicas", Changed},
		{"spec.template.spec.containers[name=web].image", Changed},
	}
	if !slices.Equal(got, wantPaths) {
		t.Fatalf("diffs %v, want %v", got, wantPaths)
	}
	live["spec"] = spec
	if diffs := Compare(desired, live); diffs != nil {
		t.Fatalf("the manifest's own spec differs: %v", diffs)
	}
}
