package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"gorm.io/gorm"

	"github.com/salesbridge/salesbridge/addin/panel"
	"github.com/salesbridge/salesbridge/models"
)

type captureKey struct{}

type captured struct{ sqls []string }

// explain runs one context and one search request through the panel
// service, captures every SELECT they issue (with the arguments inlined)
// and prints EXPLAIN (ANALYZE, BUFFERS) of each.
func explain(ctx context.Context, store *models.Store, userID int64, w *workload, out io.Writer) error {
	gdb := store.DB(context.Background())
	hook := func(tx *gorm.DB) {
		c, ok := tx.Statement.Context.Value(captureKey{}).(*captured)
		if !ok || tx.Statement.SQL.Len() == 0 {
			return
		}
		q := strings.TrimSpace(tx.Statement.SQL.String())
		upper := strings.ToUpper(q)
		if strings.HasPrefix(upper, "SELECT") || strings.HasPrefix(q, "(SELECT") || strings.HasPrefix(upper, "SET LOCAL") {
			c.sqls = append(c.sqls, tx.Dialector.Explain(q, tx.Statement.Vars...))
		}
	}
	if err := gdb.Callback().Query().After("gorm:query").Register("bench:capture", hook); err != nil {
		return err
	}
	if err := gdb.Callback().Row().After("gorm:row").Register("bench:capture", hook); err != nil {
		return err
	}
	if err := gdb.Callback().Raw().After("gorm:raw").Register("bench:capture", hook); err != nil {
		return err
	}
	svc := &panel.Service{Store: store}
	cases := []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{"context of 3 addresses " + strings.Join(w.emails[:3], ", "), func(ctx context.Context) error {
			_, err := svc.Context(ctx, panel.ContextRequest{Addresses: w.emails[:3]})
			return err
		}},
	}
	for _, q := range []string{w.searches[0], w.searches[1], w.searches[2]} {
		cases = append(cases, struct {
			name string
			run  func(ctx context.Context) error
		}{"search " + fmt.Sprintf("%q", q), func(ctx context.Context) error {
			_, err := svc.Search(ctx, panel.SearchRequest{UserID: userID, Query: q})
			return err
		}})
	}
	for _, c := range cases {
		cap := &captured{}
		cctx := context.WithValue(ctx, captureKey{}, cap)
		if err := store.Tx(cctx, c.run); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		fmt.Fprintf(out, "\n== EXPLAIN ANALYZE: %s (%d statements) ==\n", c.name, len(cap.sqls))
		if err := explainAll(ctx, store, cap.sqls, out); err != nil {
			return err
		}
	}
	return nil
}

// explainAll explains the captured statements in one transaction, as the
// request ran them: SET LOCAL settings are applied, not explained.
func explainAll(ctx context.Context, store *models.Store, sqls []string, out io.Writer) error {
	tx, err := store.SQL().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	for _, q := range sqls {
		fmt.Fprintf(out, "\n-- %s\n", oneLine(q, 600))
		if strings.HasPrefix(strings.ToUpper(q), "SET LOCAL") {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
			continue
		}
		rows, err := tx.QueryContext(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+q)
		if err != nil {
			return err
		}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				rows.Close()
				return err
			}
			fmt.Fprintln(out, line)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
