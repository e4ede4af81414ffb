package main

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// client is one kept-alive HTTP/1.1 connection over TLS, as the API server
// keeps to a webhook. It writes each review as one prepared request and
// reads the answer with net/http's response reader. net/http's Client
// runs a reading and a writing goroutine per connection and hands every
// request and answer between them and the caller; the generator shares
// the two cores with the server it measures, so its own work is kept
// small.
type client struct {
	addr    string
	config  *tls.Config
	timeout time.Duration
	conn    *tls.Conn
	r       *bufio.Reader
	// closing: the server's last answer asked to close the connection.
	closing bool
}

func newClient(addr string, config *tls.Config) *client {
	return &client{addr: addr, config: config, timeout: 10 * time.Second}
}

// request is a prepared POST of body to path on host.
func request(host, path string, body []byte) []byte {
	head := "POST " + path + " HTTP/1.1\r\nHost: " + host +
		"\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	return append([]byte(head), body...)
}

// do sends a prepared request and returns the answer's status and body.
// A failed exchange closes the connection; the next call dials anew.
func (c *client) do(req []byte) (int, []byte, error) {
	if c.conn == nil {
		if err := c.dial(); err != nil {
			return 0, nil, err
		}
	}
	status, body, err := c.exchange(req)
	if err != nil || c.closing {
		c.close()
	}
	return status, body, err
}

func (c *client) dial() error {
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: c.timeout}, Config: c.config}
	conn, err := d.Dial("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	c.conn, c.closing = conn.(*tls.Conn), false
	c.r = bufio.NewReaderSize(c.conn, 16<<10)
	return nil
}

func (c *client) exchange(req []byte) (int, []byte, error) {
	if err := c.conn.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, nil, err
	}
	if _, err := c.conn.Write(req); err != nil {
		return 0, nil, fmt.Errorf("send: %w", err)
	}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("read answer: %w", err)
	}
	body, err := io.ReadAll(resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, nil, fmt.Errorf("read answer: %w", err)
	}
	c.closing = resp.Close
	return resp.StatusCode, body, nil
}

func (c *client) close() {
	if c.conn != nil {
		_ = c.conn.Close()
		c.conn, c.r = nil, nil
	}
}
