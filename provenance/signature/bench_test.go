package signature_test

import (
	"testing"
	"time"

	"gitgate.dev/gitgate/provenance/signature"
)

func benchmarkVerify(b *testing.B, file string) {
	ring := fixtureRing(b)
	c := fixtureCommit(b, file)
	at := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ring.Verify(c.Payload, c.Signature, at); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifySSH verifies one ed25519 commit signature.
func BenchmarkVerifySSH(b *testing.B) { benchmarkVerify(b, testdataSSHCommit) }

// BenchmarkVerifyOpenPGP verifies one ed25519 OpenPGP commit signature.
func BenchmarkVerifyOpenPGP(b *testing.B) { benchmarkVerify(b, testdataOpenPGPCommit) }

// BenchmarkVerifyX509 verifies one gpgsm (RSA 2048) signature, chain
// included.
func BenchmarkVerifyX509(b *testing.B) { benchmarkVerify(b, testdataX509Commit) }

func BenchmarkParseCommit(b *testing.B) {
	raw := fixture(b, testdataSSHCommit)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := signature.ParseCommit(raw); err != nil {
			b.Fatal(err)
		}
	}
}
