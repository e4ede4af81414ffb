// Package render turns the files of a verified commit into the Kubernetes
// objects it declares: the desired state of DESIGN.md §2.
//
// Render reads a Tree (a *provenance.Snapshot, or a fake in tests) at the
// configured paths. A folder is walked recursively and every .yaml, .yml
// and .json file in it is read as a stream of YAML documents, split the way
// kubectl splits them; empty documents are skipped and List kinds are
// flattened into their items. A folder that holds a kustomization file
// (kustomization.yaml, kustomization.yml or Kustomization) is built with
// kustomize instead, and its subfolders are not walked on their own.
//
// The repository is hostile input, so:
//
//   - Paths are repo-relative; an absolute path or a ".." segment is refused,
//     and so is a kustomization entry that leads outside the repository.
//   - Symlinks and submodules in a rendered folder are errors, never
//     followed.
//   - kustomize runs on an in-memory file system that holds only files read
//     from the Tree, so it cannot read the host. Before a build, every
//     kustomization it will load is checked: remote resources and bases
//     (URLs, git repositories), helm chart inflation, and generators,
//     transformers or validators other than kustomize's builtins (exec and
//     container KRM functions, plugins) are refused with an error naming the
//     kustomization file. kustomize itself also runs with plugins and helm
//     disabled and with load restrictions at the kustomization root.
//   - Every read is capped (Options): the size of a file, the bytes read in
//     one Render, the number of objects, the nesting depth of a document,
//     the nodes a document may add through YAML aliases (so an alias bomb
//     fails after a few thousand nodes, not after a billion), and the
//     kustomizations one build may load.
//
// Each object must have apiVersion, kind and metadata.name (generateName is
// refused: Git must name what it declares), and no two objects may share an
// identity (group, kind, namespace, name; see package index). Every error
// is an *Error naming the repository path and, for a multi-document file,
// the document.
package render
