package main

// The control interface the stand-in's daemon uses in place of kine: JSON over HTTP on a unix
// socket. Every answer comes from dqlite itself: the cluster and leader from the leader's
// client (as `dqlite .cluster` / `.leader` get them), SQL through the app's driver (routed to
// the leader, so a write needs quorum and fails with the driver's error without it).

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/canonical/go-dqlite/app"
)

type statement struct {
	SQL  string        `json:"sql"`
	Args []interface{} `json:"args"`
}

type controller struct {
	node *app.App
	once sync.Once
	db   *sql.DB
	err  error
}

func serveControl(path string, node *app.App) (*http.Server, error) {
	os.Remove(path)
	listener, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0600); err != nil {
		return nil, err
	}
	c := &controller{node: node}
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
	cli, err := c.node.Leader(ctx)
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

func (c *controller) database() (*sql.DB, error) {
	c.once.Do(func() { c.db, c.err = sql.Open(c.node.Driver(), "k8s") })
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
	db, err := c.database()
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
	db, err := c.database()
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
	cli, err := c.node.Leader(ctx)
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
