package signature_test

import (
	"fmt"
	"os"
	"time"

	"gitgate.dev/gitgate/provenance/signature"
)

// Verify a raw commit object (as `git cat-file commit <sha>` prints it)
// against the keys a trust policy lists.
func ExampleKeyRing_Verify() {
	pub, err := os.ReadFile("testdata/ssh.pub")
	if err != nil {
		fmt.Println(err)
		return
	}
	raw, err := os.ReadFile("testdata/ssh.commit")
	if err != nil {
		fmt.Println(err)
		return
	}
	ring := signature.NewKeyRing()
	if err := ring.AddSSH("alice", string(pub)); err != nil {
		fmt.Println(err)
		return
	}
	commit, err := signature.ParseCommit(raw)
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := ring.Verify(commit.Payload, commit.Signature, time.Now())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(v.Signer, v.Format)

	// The same signature over a changed commit does not verify.
	_, err = ring.Verify(append(commit.Payload, '!'), commit.Signature, time.Now())
	fmt.Println(err != nil)
	// Output:
	// alice ssh
	// true
}
