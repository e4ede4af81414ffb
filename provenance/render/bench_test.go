package render_test

import (
	"fmt"
	"strings"
	"testing"

	"gitgate.dev/gitgate/provenance/render"
)

// benchFiles makes n objects, a Deployment and a Service per app, ten
// objects to a file, spread over folders of 100 files.
func benchFiles(n int) map[string]string {
	files := map[string]string{}
	var b strings.Builder
	for i := 0; i < n; i += 2 {
		name := fmt.Sprintf("app-%06d", i/2)
		b.WriteString(strings.NewReplacer("name: web", "name: "+name, "app: web", "app: "+name).Replace(deploy))
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: %s\n  namespace: demo\nspec:\n  selector: {app: %s}\n  ports:\n  - port: 80\n    targetPort: 8080\n---\n", name, name)
		if (i+2)%10 == 0 || i+2 >= n {
			files[fmt.Sprintf("apps/f%03d/%06d.yaml", i/1000, i)] = b.String()
			b.Reset()
		}
	}
	return files
}

func BenchmarkRenderPlain(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			tr := tree(benchFiles(n))
			b.ReportAllocs()
			for b.Loop() {
				objs, err := render.Render(b.Context(), tr, []string{"apps"}, render.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if len(objs) != n {
					b.Fatalf("%d objects, want %d", len(objs), n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/object")
		})
	}
}

// BenchmarkRenderKustomize builds an overlay over a base of n objects.
// kustomize's own build is quadratic in the objects of one build (each
// append checks every resource already accumulated for a conflicting id),
// so 10,000 objects in one kustomization take minutes and are not run.
func BenchmarkRenderKustomize(b *testing.B) {
	for _, n := range []int{100, 1_000} {
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			files := map[string]string{}
			var resources []string
			for p, c := range benchFiles(n) {
				rel := strings.TrimPrefix(p, "apps/")
				files["base/"+rel] = c
				resources = append(resources, rel)
			}
			files["base/kustomization.yaml"] = "resources:\n- " + strings.Join(resources, "\n- ") + "\n"
			files["prod/kustomization.yaml"] = "resources: [../base]\nnamePrefix: prod-\nlabels:\n- pairs: {env: prod}\n"
			tr := tree(files)
			b.ReportAllocs()
			for b.Loop() {
				objs, err := render.Render(b.Context(), tr, []string{"prod"}, render.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if len(objs) != n {
					b.Fatalf("%d objects, want %d", len(objs), n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/object")
		})
	}
}
