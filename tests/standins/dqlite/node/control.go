package main

// The control interface the stand-in's daemon uses in place of kine: JSON over HTTP on a unix
// socket. Every answer comes from dqlite itself: the cluster and leader from the leader's
// client (as `dqlite .cluster` / `.leader` get them), SQL through the app's driver (routed to
// the leader, so a write needs quorum and fails with the driver's error without it).

import (
	"context"
	"crypto/tls"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/canonical/go-dqlite/app"
	"github.com/canonical/go-dqlite/client"
	"github.com/canonical/go-dqlite/driver"
)

type statement struct {
	SQL  string        `json:"sql"`
	Args []interface{} `json:"args"`
}

// The dial timeout for the control interface's own connections to the members. go-dqlite's
// default (5 s per member, tried one after another, voters first) makes every answer wait on
// each dead voter; the lab network is local, so a member that does not accept within this is
// taken as down and the next one is tried.
const controlDialTimeout = 2 * time.Second

type controller struct {
	node  *app.App
	dir   string
	dial  client.DialFunc
	store *client.InmemNodeStore
	once  sync.Once
	db    *sql.DB
	err   error
}

func serveControl(path string, node *app.App, dir string, dialTLS *tls.Config) (*http.Server, error) {
	os.Remove(path)
	listener, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0600); err != nil {
		return nil, err
	}
	tlsDial := client.DialFuncWithTLS(client.DefaultDialFunc, dialTLS)
	dial := func(ctx context.Context, address string) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(ctx, controlDialTimeout)
		defer cancel()
		return tlsDial(ctx, address)
	}
	c := &controller{node: node, dir: dir, dial: dial, store: client.NewInmemNodeStore()}
	mux := http.NewServeMux()
	mux.HandleFunc("/ready", c.ready)
	mux.HandleFunc("/cluster", c.cluster)
	mux.HandleFunc("/exec", c.exec)
	mux.HandleFunc("/query", c.query)
	mux.HandleFunc("/remove", c.remove)
	server := &http.Server{Handler: mux}
	go server.Serve(listener)
	return server, nil
}

// timeout reads ?timeout=SECONDS (default 5): how long the caller will wait for dqlite.
func timeout(r *http.Request) (context.Context, context.CancelFunc) {
	seconds, err := strconv.ParseFloat(r.URL.Query().Get("timeout"), 64)
	if err != nil || seconds <= 0 {
		seconds = 5
	}
	return context.WithTimeout(r.Context(), time.Duration(seconds*float64(time.Second)))
}

func reply(w http.ResponseWriter, status int, body interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

func fail(w http.ResponseWriter, err error) {
	reply(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
}

func (c *controller) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Millisecond)
	defer cancel()
	ready := c.node.Ready(ctx) == nil
	reply(w, http.StatusOK, map[string]interface{}{
		"ready": ready, "id": c.node.ID(), "address": c.node.Address(),
	})
}

func (c *controller) cluster(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := timeout(r)
	defer cancel()
	cli, err := c.leader(ctx)
	if err != nil {
		fail(w, err)
		return
	}
	defer cli.Close()
	leader, err := cli.Leader(ctx)
	if err != nil {
		fail(w, err)
		return
	}
	members, err := cli.Cluster(ctx)
	if err != nil {
		fail(w, err)
		return
	}
	address := ""
	if leader != nil {
		address = leader.Address
	}
	reply(w, http.StatusOK, map[string]interface{}{"leader": address, "members": members})
}

// members loads the member list the app keeps in cluster.yaml into our own store.
func (c *controller) members(ctx context.Context) error {
	yaml, err := client.NewYamlNodeStore(filepath.Join(c.dir, "cluster.yaml"))
	if err != nil {
		return err
	}
	servers, err := yaml.Get(ctx)
	if err != nil {
		return err
	}
	return c.store.Set(ctx, servers)
}

// leader is a client of the current leader, found through the members in cluster.yaml.
func (c *controller) leader(ctx context.Context) (*client.Client, error) {
	if err := c.members(ctx); err != nil {
		return nil, err
	}
	return client.FindLeader(ctx, c.store, client.WithDialFunc(c.dial))
}

// database is go-dqlite's SQL driver over our store and dial function, registered once.
func (c *controller) database(ctx context.Context) (*sql.DB, error) {
	if err := c.members(ctx); err != nil {
		return nil, err
	}
	c.once.Do(func() {
		var d *driver.Driver
		d, c.err = driver.New(c.store, driver.WithDialFunc(c.dial),
			driver.WithAttemptTimeout(2*controlDialTimeout), driver.WithLogFunc(logFunc))
		if c.err != nil {
			return
		}
		sql.Register("mck-dqlite-control", d)
		c.db, c.err = sql.Open("mck-dqlite-control", "k8s")
		if c.err == nil {
			// A pooled connection outlives the leader it was made to (after an election it
			// answers EOF forever): connect afresh, finding the leader, every time.
			c.db.SetMaxIdleConns(0)
		}
	})
	return c.db, c.err
}

func decode(r *http.Request, into interface{}) error {
	decoder := json.NewDecoder(r.Body)
	decoder.UseNumber()
	return decoder.Decode(into)
}

// args turns JSON numbers into int64 or float64, so SQLite stores integers as integers.
func args(raw []interface{}) []interface{} {
	out := make([]interface{}, len(raw))
	for i, value := range raw {
		if number, ok := value.(json.Number); ok {
			if n, err := number.Int64(); err == nil {
				out[i] = n
			} else if f, err := number.Float64(); err == nil {
				out[i] = f
			}
			continue
		}
		out[i] = value
	}
	return out
}

// exec runs statements in one transaction; the answer lists each one's rows affected.
func (c *controller) exec(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Statements []statement `json:"statements"`
	}
	if err := decode(r, &body); err != nil {
		reply(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	ctx, cancel := timeout(r)
	defer cancel()
	db, err := c.database(ctx)
	if err != nil {
		fail(w, err)
		return
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		fail(w, err)
		return
	}
	affected := []int64{}
	for _, st := range body.Statements {
		result, err := tx.ExecContext(ctx, st.SQL, args(st.Args)...)
		if err != nil {
			tx.Rollback()
			fail(w, fmt.Errorf("%s: %w", st.SQL, err))
			return
		}
		n, _ := result.RowsAffected()
		affected = append(affected, n)
	}
	if err := tx.Commit(); err != nil {
		fail(w, err)
		return
	}
	reply(w, http.StatusOK, map[string]interface{}{"rows_affected": affected})
}

func (c *controller) query(w http.ResponseWriter, r *http.Request) {
	var st statement
	if err := decode(r, &st); err != nil {
		reply(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	ctx, cancel := timeout(r)
	defer cancel()
	db, err := c.database(ctx)
	if err != nil {
		fail(w, err)
		return
	}
	rows, err := db.QueryContext(ctx, st.SQL, args(st.Args)...)
	if err != nil {
		fail(w, err)
		return
	}
	defer rows.Close()
	columns, err := rows.Columns()
	if err != nil {
		fail(w, err)
		return
	}
	result := [][]interface{}{}
	for rows.Next() {
		values := make([]interface{}, len(columns))
		pointers := make([]interface{}, len(columns))
		for i := range values {
			pointers[i] = &values[i]
		}
		if err := rows.Scan(pointers...); err != nil {
			fail(w, err)
			return
		}
		for i, v := range values {
			if b, ok := v.([]byte); ok {
				values[i] = string(b)
			}
		}
		result = append(result, values)
	}
	if err := rows.Err(); err != nil {
		fail(w, err)
		return
	}
	reply(w, http.StatusOK, map[string]interface{}{"columns": columns, "rows": result})
}

// remove drops a member by address through the leader (`dqlite .remove ADDRESS`).
func (c *controller) remove(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Address string `json:"address"`
	}
	if err := decode(r, &body); err != nil {
		reply(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	ctx, cancel := timeout(r)
	defer cancel()
	cli, err := c.leader(ctx)
	if err != nil {
		fail(w, err)
		return
	}
	defer cli.Close()
	members, err := cli.Cluster(ctx)
	if err != nil {
		fail(w, err)
		return
	}
	for _, member := range members {
		if member.Address == body.Address {
			if err := cli.Remove(ctx, member.ID); err != nil {
				fail(w, fmt.Errorf("remove node %q: %w", body.Address, err))
				return
			}
			reply(w, http.StatusOK, map[string]string{})
			return
		}
	}
	reply(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("no node has address %q", body.Address)})
}
