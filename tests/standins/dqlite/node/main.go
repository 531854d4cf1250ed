// mck-dqlite-node: the lab's k8s-dqlite. A real dqlite node (go-dqlite's app package, linked
// against Debian's libdqlite) started the way canonical/k8s-dqlite pkg/server/server.go starts
// one from its storage directory:
//   - init.yaml (Address, Cluster) on a fresh directory: the address to bind and the members
//     to join through, removed once read;
//   - update.yaml (Address) on an existing node: the node moves to a new address
//     (dqlite.ReconfigureMembership, info.yaml and cluster.yaml rewritten), removed once done;
//   - failure-domain: the node's failure domain (go-dqlite metadata);
//   - cluster.crt / cluster.key: TLS between the members (app.SimpleTLSConfig).
//
// YAML goes through github.com/ghodss/yaml, as go-dqlite's own info.yaml/cluster.yaml do.
// Instead of kine it serves a small control interface to the stand-in's daemon (control.go).
// SIGTERM hands leadership and voting rights over, then closes, like k8s-dqlite's Shutdown.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io/ioutil"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	dqlite "github.com/canonical/go-dqlite"
	"github.com/canonical/go-dqlite/app"
	"github.com/canonical/go-dqlite/client"
	"github.com/ghodss/yaml"
)

type initConfig struct {
	Address string   `json:"Address"`
	Cluster []string `json:"Cluster"`
}

func main() {
	dir := flag.String("dir", "", "storage directory (info.yaml, cluster.yaml, cluster.crt, ...)")
	control := flag.String("control", "", "unix socket for the control interface")
	frequency := flag.Duration("roles-adjustment-frequency", 30*time.Second,
		"how often the leader adjusts roles (go-dqlite's default: 30s)")
	flag.Parse()
	if *dir == "" || *control == "" {
		fmt.Fprintln(os.Stderr, "mck-dqlite-node: --dir and --control are required")
		os.Exit(2)
	}
	node, dialTLS, err := start(*dir, *frequency)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mck-dqlite-node: %v\n", err)
		os.Exit(1)
	}
	server, err := serveControl(*control, node, *dir, dialTLS)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mck-dqlite-node: control socket: %v\n", err)
		node.Close()
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "mck-dqlite-node: started dqlite id=%d address=%s\n", node.ID(), node.Address())

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	<-signals
	server.Close()
	// k8s-dqlite's Shutdown: hand over, then close. Handover gives up on its own after a
	// minute when no leader can be found (quorum lost).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	if err := node.Handover(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "mck-dqlite-node: handover: %v\n", err)
	}
	cancel()
	if err := node.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "mck-dqlite-node: close: %v\n", err)
		os.Exit(1)
	}
}

func start(dir string, frequency time.Duration) (*app.App, *tls.Config, error) {
	options := []app.Option{
		app.WithRolesAdjustmentFrequency(frequency),
		app.WithLogFunc(logFunc),
	}
	if exists(dir, "init.yaml") {
		var init initConfig
		if err := readYaml(dir, "init.yaml", &init); err != nil {
			return nil, nil, err
		}
		if init.Address == "" {
			return nil, nil, errors.New("empty address in init.yaml")
		}
		if err := os.Remove(filepath.Join(dir, "init.yaml")); err != nil {
			return nil, nil, err
		}
		options = append(options, app.WithAddress(init.Address), app.WithCluster(init.Cluster))
	} else if exists(dir, "update.yaml") {
		if err := updateAddress(dir); err != nil {
			return nil, nil, err
		}
	}
	domain, err := failureDomain(dir)
	if err != nil {
		return nil, nil, err
	}
	options = append(options, app.WithFailureDomain(domain))
	listen, dial, err := tlsConfig(dir)
	if err != nil {
		return nil, nil, err
	}
	options = append(options, app.WithTLS(listen, dial))
	node, err := app.New(dir, options...)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to create dqlite app: %w", err)
	}
	return node, dial, nil
}

// updateAddress moves an existing one-node cluster to the address in update.yaml.
func updateAddress(dir string) error {
	var update initConfig
	var info client.NodeInfo
	if err := readYaml(dir, "update.yaml", &update); err != nil {
		return err
	}
	if update.Address == "" {
		return errors.New("empty address in update.yaml")
	}
	if err := readYaml(dir, "info.yaml", &info); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "mck-dqlite-node: moving from %s to %s\n", info.Address, update.Address)
	info.Address = update.Address
	if err := dqlite.ReconfigureMembership(dir, []dqlite.NodeInfo{info}); err != nil {
		return fmt.Errorf("failed to reconfigure dqlite membership for new address: %w", err)
	}
	if err := writeYaml(dir, "info.yaml", info); err != nil {
		return err
	}
	if err := writeYaml(dir, "cluster.yaml", []client.NodeInfo{info}); err != nil {
		return err
	}
	return os.Remove(filepath.Join(dir, "update.yaml"))
}

func failureDomain(dir string) (uint64, error) {
	if !exists(dir, "failure-domain") {
		return 0, nil
	}
	data, err := ioutil.ReadFile(filepath.Join(dir, "failure-domain"))
	if err != nil {
		return 0, err
	}
	domain, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("failed to parse failure-domain from file: %w", err)
	}
	return domain, nil
}

func tlsConfig(dir string) (*tls.Config, *tls.Config, error) {
	crt, key := filepath.Join(dir, "cluster.crt"), filepath.Join(dir, "cluster.key")
	keypair, err := tls.LoadX509KeyPair(crt, key)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to load keypair from cluster.crt and cluster.key: %w", err)
	}
	pem, err := ioutil.ReadFile(crt)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, nil, errors.New("failed to add certificate to pool")
	}
	listen, dial := app.SimpleTLSConfig(keypair, pool)
	// Resumed sessions through go-dqlite's proxy fail ("bad record MAC", "invalid PSK
	// binder", seen here with Go 1.19); k8s-dqlite also runs without a session cache when
	// --tls-client-session-cache-size is 0.
	// The dqlite shell keeps its session cache, so the members do not issue tickets.
	dial.ClientSessionCache = nil
	listen.SessionTicketsDisabled = true
	return listen, dial, nil
}

func logFunc(level client.LogLevel, format string, args ...interface{}) {
	// Failed connection attempts while a peer is down repeat every second: not worth a line.
	message := fmt.Sprintf(format, args...)
	if level >= client.LogWarn && !strings.HasPrefix(message, "attempt ") {
		fmt.Fprintf(os.Stderr, "dqlite %s: %s\n", level, message)
	}
}

func exists(dir, name string) bool {
	_, err := os.Stat(filepath.Join(dir, name))
	return err == nil
}

func readYaml(dir, name string, into interface{}) error {
	data, err := ioutil.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(data, into); err != nil {
		return fmt.Errorf("failed to read %s: %w", name, err)
	}
	return nil
}

func writeYaml(dir, name string, value interface{}) error {
	data, err := yaml.Marshal(value)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := ioutil.WriteFile(tmp, data, 0600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, name))
}
