// Command ferretdb-clawscope runs FerretDB v1 (its embeddable package, SQLite handler) as the
// MongoDB wire-protocol server of clawscope's store tests. The released `cmd/ferretdb` cannot be
// built from the module proxy (its generated version file is not in the module zip), so this
// small program is built instead.
//
//	ferretdb-clawscope -listen 127.0.0.1:27017 -dir /tmp/ferretdb-data
//
// It prints "listening <addr>" once the listener accepts connections and stops on SIGTERM/SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dir := flag.String("dir", "", "directory of the SQLite databases (created if missing)")
	flag.Parse()

	if *dir == "" {
		fmt.Fprintln(os.Stderr, "ferretdb-clawscope: -dir is required")
		os.Exit(2)
	}
	abs, err := filepath.Abs(*dir)
	if err == nil {
		err = os.MkdirAll(abs, 0o755)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-clawscope: data directory: %v\n", err)
		os.Exit(1)
	}

	server, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-clawscope: %v\n", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	done := make(chan error, 1)
	go func() { done <- server.Run(ctx) }()

	// announce readiness only once a client can connect
	go func() {
		for ctx.Err() == nil {
			conn, err := net.DialTimeout("tcp", *listen, 200*time.Millisecond)
			if err == nil {
				conn.Close()
				fmt.Printf("listening %s\n", *listen)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()

	if err := <-done; err != nil && ctx.Err() == nil {
		fmt.Fprintf(os.Stderr, "ferretdb-clawscope: %v\n", err)
		os.Exit(1)
	}
}
