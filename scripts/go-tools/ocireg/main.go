// Command ocireg is an in-memory OCI registry with referrers support, for tests on 127.0.0.1.
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5000", "listen address (host:port; port 0 picks a free one)")
	quiet := flag.Bool("quiet", false, "do not log requests")
	flag.Parse()

	opts := []registry.Option{registry.WithReferrersSupport(true)}
	if *quiet {
		opts = append(opts, registry.Logger(log.New(discard{}, "", 0)))
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("listen %s: %v", *addr, err)
	}
	// The chosen address is printed first so callers using port 0 can read it.
	log.Printf("listening on %s", ln.Addr().String())
	srv := &http.Server{Handler: registry.New(opts...), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
