package main

import (
	"bufio"
	"net"
	"testing"
	"time"
)

// FuzzRoundTrip: whatever a server answers, reading it ends in a status
// or an error — never a panic, never a hang.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	f.Add([]byte("HTTP/1.1 429 Too Many Requests\r\ncontent-length: 0\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 2"))
	f.Add([]byte("garbage\n"))
	f.Fuzz(func(t *testing.T, answer []byte) {
		server, client := net.Pipe()
		defer client.Close()
		go func() {
			defer server.Close()
			buf := make([]byte, 64)
			server.Read(buf) // the request
			server.Write(answer)
		}()
		c := &conn{nc: client, r: bufio.NewReaderSize(client, 16<<10)}
		status, err := c.roundTrip([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), time.Second)
		if err == nil && (status < 100 || status > 999) {
			t.Fatalf("status %d accepted from %q", status, answer)
		}
	})
}
