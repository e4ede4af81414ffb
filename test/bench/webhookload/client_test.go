package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestClient checks the generator's HTTP/1.1 client against net/http's
// server: answers with a length and chunked, a server that closes the
// connection after an answer or instead of one, and a request that
// arrives as written.
func TestClient(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/validate" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		switch string(body) {
		case "close":
			w.Header().Set("Connection", "close")
		case "chunked":
			w.(http.Flusher).Flush()
		case "hang up":
			conn, _, _ := w.(http.Hijacker).Hijack()
			_ = conn.Close()
			return
		}
		_, _ = fmt.Fprintf(w, "echo %s", body)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "https://")
	c := newClient(addr, &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs, MinVersion: tls.VersionTLS12})
	defer c.close()
	for _, tc := range []struct {
		body, want string
		status     int
		err        bool
		conns      int32
	}{
		{body: "a", want: "echo a", status: 200, conns: 1},
		{body: "b", want: "echo b", status: 200, conns: 1},
		{body: "chunked", want: "echo chunked", status: 200, conns: 1},
		{body: "close", want: "echo close", status: 200, conns: 1},
		{body: "c", want: "echo c", status: 200, conns: 2},
		{body: "hang up", err: true, conns: 2},
		{body: "d", want: "echo d", status: 200, conns: 3},
	} {
		status, got, err := c.do(request(addr, "/validate", []byte(tc.body)))
		if (err != nil) != tc.err || status != tc.status || string(got) != tc.want {
			t.Errorf("%q: status %d, body %q, error %v; want %d, %q, error %v", tc.body, status, got, err, tc.status, tc.want, tc.err)
		}
		if n := conns.Load(); n != tc.conns {
			t.Errorf("%q: %d connections so far, want %d", tc.body, n, tc.conns)
		}
	}
}
