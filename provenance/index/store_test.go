package index_test

import (
	"errors"
	"sync"
	"testing"

	"gitgate.dev/gitgate/provenance/index"
)

var (
	keyKept = index.Key{Kind: "ConfigMap", Namespace: "web", Name: "kept"}
	keyGone = index.Key{Kind: "ConfigMap", Namespace: "web", Name: "gone"}
)

func TestStorePublish(t *testing.T) {
	s := index.NewStore()
	if s.Current() == nil || s.Current().Len() != 0 {
		t.Fatal("a new store's Current is not an empty index")
	}
	v1 := sample(t, "web", obj("v1", "ConfigMap", "web", "kept"), obj("v1", "ConfigMap", "web", "gone"))
	if err := s.Publish("web", v1); err != nil {
		t.Fatal(err)
	}
	before := s.Current()
	if _, ok := before.Lookup(keyGone); !ok {
		t.Fatal("published entry missing")
	}
	if s.Source("web") != v1 || s.Source("other") != nil {
		t.Error("Source does not return the published index")
	}

	t.Run("removed keys become withdrawn", func(t *testing.T) {
		v2 := sample(t, "web", obj("v1", "ConfigMap", "web", "kept"))
		if err := s.Publish("web", v2); err != nil {
			t.Fatal(err)
		}
		cur := s.Current()
		if _, ok := cur.Lookup(keyGone); ok {
			t.Error("removed key still declared")
		}
		e, ok := cur.Withdrawn(keyGone)
		if !ok || e.Origin.Path != "apps/gone.yaml" {
			t.Errorf("Withdrawn(gone) = %+v, %v", e, ok)
		}
		if _, ok := cur.Withdrawn(keyKept); ok {
			t.Error("a declared key is withdrawn")
		}
		// The old view a reader holds is unchanged.
		if _, ok := before.Lookup(keyGone); !ok {
			t.Error("publishing changed an earlier Current")
		}
		// A later commit that leaves it out again keeps it withdrawn: the
		// prune may lag behind several commits.
		if err := s.Publish("web", sample(t, "web", obj("v1", "ConfigMap", "web", "kept"), obj("v1", "ConfigMap", "web", "other"))); err != nil {
			t.Fatal(err)
		}
		if _, ok := s.Current().Withdrawn(keyGone); !ok {
			t.Error("withdrawn key lost after a further commit")
		}
	})

	t.Run("declared again is no longer withdrawn", func(t *testing.T) {
		if err := s.Publish("web", v1); err != nil {
			t.Fatal(err)
		}
		if _, ok := s.Current().Withdrawn(keyGone); ok {
			t.Error("re-declared key still withdrawn")
		}
	})

	t.Run("forget", func(t *testing.T) {
		if err := s.Publish("web", sample(t, "web")); err != nil {
			t.Fatal(err)
		}
		if _, ok := s.Current().Withdrawn(keyKept); !ok {
			t.Fatal("kept should be withdrawn after an empty commit")
		}
		s.Forget("web", keyKept)
		if _, ok := s.Current().Withdrawn(keyKept); ok {
			t.Error("Forget did not drop the key")
		}
		if _, ok := s.Current().Withdrawn(keyGone); !ok {
			t.Error("Forget dropped another key")
		}
	})
}

func TestStoreConflictKeepsLastGoodState(t *testing.T) {
	s := index.NewStore()
	if err := s.Publish("a", sample(t, "a", obj("v1", "ConfigMap", "web", "shared"))); err != nil {
		t.Fatal(err)
	}
	good := s.Current()
	err := s.Publish("b", sample(t, "b", obj("v1", "ConfigMap", "web", "shared"), obj("v1", "ConfigMap", "web", "own")))
	var ce *index.ConflictError
	if !errors.As(err, &ce) || ce.First.Source != "a" || ce.Second.Source != "b" {
		t.Fatalf("Publish = %v, want a conflict between a and b", err)
	}
	if s.Current() != good || s.Source("b") != nil {
		t.Error("a refused publish changed the store")
	}
	// The source may publish once the conflict is gone.
	if err := s.Publish("b", sample(t, "b", obj("v1", "ConfigMap", "web", "own"))); err != nil {
		t.Fatal(err)
	}
	if s.Current().Len() != 2 {
		t.Errorf("combined Len = %d, want 2", s.Current().Len())
	}
}

func TestStoreRejectsForeignEntries(t *testing.T) {
	s := index.NewStore()
	if err := s.Publish("a", sample(t, "b", obj("v1", "ConfigMap", "web", "x"))); err == nil {
		t.Fatal("published an index of source b as source a")
	}
}

func TestStoreRemove(t *testing.T) {
	s := index.NewStore()
	for _, src := range []string{"a", "b"} {
		if err := s.Publish(src, sample(t, src, obj("v1", "ConfigMap", src, "x"))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Publish("a", sample(t, "a")); err != nil {
		t.Fatal(err)
	}
	s.Remove("a")
	s.Remove("never-published")
	cur := s.Current()
	if cur.Len() != 1 || s.Source("a") != nil {
		t.Fatalf("after Remove: %d entries", cur.Len())
	}
	if _, ok := cur.Withdrawn(index.Key{Kind: "ConfigMap", Namespace: "a", Name: "x"}); ok {
		t.Error("a removed source's withdrawn keys remain")
	}
}

// TestStoreConcurrentReaders runs readers against a publisher; with -race it
// proves the hot path needs no lock.
func TestStoreConcurrentReaders(t *testing.T) {
	s := index.NewStore()
	v1 := sample(t, "web", obj("v1", "ConfigMap", "web", "kept"), obj("v1", "ConfigMap", "web", "gone"))
	v2 := sample(t, "web", obj("v1", "ConfigMap", "web", "kept"))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				cur := s.Current()
				_, declared := cur.Lookup(keyGone)
				_, withdrawn := cur.Withdrawn(keyGone)
				if declared && withdrawn {
					t.Error("a view both declares and withdraws a key")
					return
				}
			}
		})
	}
	for i := range 200 {
		ix := v1
		if i%2 == 1 {
			ix = v2
		}
		if err := s.Publish("web", ix); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
}
