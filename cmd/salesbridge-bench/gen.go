package main

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"strings"
	"time"
)

// Sizes of a generated data set.
type Sizes struct {
	Users, Accounts, Contacts, Leads, Opportunities, Activities int64
}

// loadedTables are the tables the generator fills; their secondary indexes
// are dropped during the load and rebuilt from their exact definitions
// afterwards (a bulk index build is far cheaper than row-by-row upkeep).
var loadedTables = []string{"users", "accounts", "contacts", "leads", "opportunities",
	"activities", "activity_participants", "activity_associations"}

// setupSQL defines bench_word, a deterministic pronounceable word of n
// syllables for a seed, so names share prefixes and trigrams the way real
// names do (1,225 first names, 42,875 last names).
const setupSQL = `CREATE OR REPLACE FUNCTION bench_word(seed bigint, n int) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT initcap(('{ka,ri,mo,len,dor,an,be,chi,da,el,fa,go,ha,is,jo,ke,lu,ma,ni,ol,pe,qui,ra,si,ta,ur,vi,wen,xa,yo,zu,ber,son,ton,ley}'::text[])[1 + (seed * 7919 % 1000003) % 35] ||
         ('{ka,ri,mo,len,dor,an,be,chi,da,el,fa,go,ha,is,jo,ke,lu,ma,ni,ol,pe,qui,ra,si,ta,ur,vi,wen,xa,yo,zu,ber,son,ton,ley}'::text[])[1 + (seed * 104729 % 999983) % 35] ||
         CASE WHEN n > 2 THEN ('{ka,ri,mo,len,dor,an,be,chi,da,el,fa,go,ha,is,jo,ke,lu,ma,ni,ol,pe,qui,ra,si,ta,ur,vi,wen,xa,yo,zu,ber,son,ton,ley}'::text[])[1 + (seed * 1299709 % 999979) % 35] ELSE '' END)
$$`

// generate fills an empty, migrated database. Every statement is one
// server-side INSERT … SELECT over generate_series; CRM versions come from
// the version counter exactly as the BeforeSave hook would hand them out.
func generate(ctx context.Context, db *sql.DB, z Sizes) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	exec := func(what string, q string, args ...any) error {
		t := time.Now()
		res, err := conn.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		n, _ := res.RowsAffected()
		log.Printf("gen: %-28s %9d rows %7.1fs", what, n, time.Since(t).Seconds())
		return nil
	}
	// base reserves n versions from the counter and returns the one before
	// the first.
	base := func(n int64) (int64, error) {
		var v int64
		err := conn.QueryRowContext(ctx, `UPDATE crm_version_counter SET value = value + $1 WHERE id = 1 RETURNING value - $1`, n).Scan(&v)
		return v, err
	}
	if err := exec("bench_word()", setupSQL); err != nil {
		return err
	}
	// Data is consistent by construction; skip the per-row foreign key
	// triggers (and the search-word triggers, refilled in bulk below) of
	// this session during the load.
	if err := exec("session settings", `SET session_replication_role = replica; SET maintenance_work_mem = '256MB'; SET synchronous_commit = off`); err != nil {
		return err
	}
	indexes, err := dropIndexes(ctx, conn)
	if err != nil {
		return err
	}

	if err := exec("users", `INSERT INTO users (username, display_name, email, role, created_at, updated_at)
	    SELECT 'bench' || u, 'Bench User ' || u, 'bench' || u || '@salesbridge.example', 'user', now(), now()
	    FROM generate_series(1, $1::bigint) u`, z.Users); err != nil {
		return err
	}
	// Ids are assigned by the sequences; the load relies on them starting
	// at 1 in a fresh database, checked here.
	var firstUser int64
	if err := conn.QueryRowContext(ctx, `SELECT min(id) FROM users`).Scan(&firstUser); err != nil || firstUser != 1 {
		return fmt.Errorf("the bench database must be fresh (first user id %d, %v)", firstUser, err)
	}

	v, err := base(z.Accounts)
	if err != nil {
		return err
	}
	if err := exec("accounts", `INSERT INTO accounts (id, owner_id, name, website, industry, phone, addr_country, addr_line1, addr_locality, addr_postal_code, addr_formatted, version, origin, created_at, updated_at)
	    SELECT g, 1 + g % $2, bench_word(g + 123, 2) || ' ' || (ARRAY['Systems','Labs','GmbH','Inc','Partners','Group','Logistics','Foods','Bank','Media'])[1 + g % 10],
	           'https://acc' || g || '.example', 'Manufacturing', '+4940' || (20000000 + g),
	           'DE', 'Hauptstr. ' || (1 + g % 200), 'Hamburg', lpad((20000 + g % 2000)::text, 5, '0'),
	           'Hauptstr. ' || (1 + g % 200) || E'\n' || lpad((20000 + g % 2000)::text, 5, '0') || ' Hamburg\nGERMANY',
	           $3 + g, 'import', now() - (g % 1000) * interval '1 day', now() - (g % 100) * interval '1 day'
	    FROM generate_series(1, $1::bigint) g`, z.Accounts, z.Users, v); err != nil {
		return err
	}
	v, err = base(z.Contacts)
	if err != nil {
		return err
	}
	if err := exec("contacts", `INSERT INTO contacts (id, owner_id, account_id, first_name, last_name, email, email_norm, phone, mobile, job_title, dup_key, version, origin, created_at, updated_at)
	    SELECT g, 1 + g % $2, 1 + (g * 31) % $3, f, l, e, lower(e), '+4930' || (10000000 + g), '', 'Buyer',
	           lower(f) || '|' || lower(l) || '|' || lower(e), $4 + g, 'import',
	           now() - (g % 1000) * interval '1 day', now() - (g % 100) * interval '1 day'
	    FROM (SELECT g, bench_word(g, 2) AS f, bench_word(g + 7777777, 3) AS l FROM generate_series(1, $1::bigint) g) n,
	         LATERAL (SELECT lower(f || '.' || l || '.' || g || '@acc' || (1 + (g * 31) % $3) || '.example') AS e) m`,
		z.Contacts, z.Users, z.Accounts, v); err != nil {
		return err
	}
	v, err = base(z.Leads)
	if err != nil {
		return err
	}
	if err := exec("leads", `INSERT INTO leads (id, owner_id, contact_id, name, company, email, email_norm, status, source, version, origin, created_at, updated_at)
	    SELECT g, 1 + g % $2, CASE WHEN g % 2 = 0 THEN c.id END, c.first_name || ' ' || c.last_name, 'Prospect ' || g,
	           CASE WHEN g % 2 = 0 THEN c.email_norm ELSE 'lead' || g || '@prospect.example' END,
	           CASE WHEN g % 2 = 0 THEN c.email_norm ELSE 'lead' || g || '@prospect.example' END,
	           CASE WHEN g % 5 = 0 THEN 'qualified' ELSE 'open' END, 'web', $4 + g, 'import',
	           now() - (g % 500) * interval '1 day', now() - (g % 50) * interval '1 day'
	    FROM generate_series(1, $1::bigint) g JOIN contacts c ON c.id = 1 + (g * 41) % $3`,
		z.Leads, z.Users, z.Contacts, v); err != nil {
		return err
	}
	v, err = base(z.Opportunities)
	if err != nil {
		return err
	}
	if err := exec("opportunities", `INSERT INTO opportunities (id, owner_id, account_id, contact_id, name, stage, status, amount_cents, currency, close_date, version, origin, created_at, updated_at)
	    SELECT g, c.owner_id, c.account_id, c.id,
	           bench_word(g + 999, 2) || ' ' || (ARRAY['Renewal','Expansion','Pilot','Upgrade','Migration'])[1 + g % 5] || ' ' || (2024 + g % 3),
	           'proposal', CASE WHEN g % 10 < 7 THEN 'open' WHEN g % 10 < 9 THEN 'won' ELSE 'lost' END,
	           (g % 1000) * 10000, 'EUR', now() + (g % 180) * interval '1 day', $3 + g, 'import',
	           now() - (g % 700) * interval '1 day', now() - (g % 90) * interval '1 day'
	    FROM generate_series(1, $1::bigint) g JOIN contacts c ON c.id = 1 + (g * 17) % $2`,
		z.Opportunities, z.Contacts, v); err != nil {
		return err
	}
	v, err = base(z.Activities)
	if err != nil {
		return err
	}
	// Three activities in four are emails, one an appointment, spread over
	// two years.
	if err := exec("activities", `INSERT INTO activities (id, type_code, subject, body_text, start_at, end_at, status, owner_id, internet_message_id, ical_uid, source, version, origin, created_at, updated_at)
	    SELECT g, CASE WHEN g % 4 = 0 THEN 'APPOINTMENT' ELSE 'EMAIL' END, 'Re: offer ' || g, 'Hello, see the attached offer.',
	           t, CASE WHEN g % 4 = 0 THEN t + interval '1 hour' END, 'done', 1 + (g * 7) % $2,
	           CASE WHEN g % 4 <> 0 THEN '<bench.' || g || '@mail.example>' END,
	           CASE WHEN g % 4 = 0 THEN 'bench-' || g END, 'pane', $3 + g, 'import', t, t
	    FROM generate_series(1, $1::bigint) g, LATERAL (SELECT now() - ((g * 37) % 1051200) * interval '1 minute' AS t) s`,
		z.Activities, z.Users, v); err != nil {
		return err
	}
	// Participants: the owner as sender or organiser, one contact as
	// recipient, a second contact on every third item and a colleague on
	// every fifth.
	if err := exec("participants (owner)", `INSERT INTO activity_participants (activity_id, role, user_id, email, name)
	    SELECT a.id, CASE WHEN a.type_code = 'EMAIL' THEN 'from' ELSE 'organizer' END, a.owner_id,
	           'bench' || a.owner_id || '@salesbridge.example', 'Bench User ' || a.owner_id
	    FROM activities a`); err != nil {
		return err
	}
	if err := exec("participants (contact)", `INSERT INTO activity_participants (activity_id, role, contact_id, email, name)
	    SELECT g, CASE WHEN g % 4 = 0 THEN 'attendee' ELSE 'to' END, c.id, c.email_norm, c.first_name || ' ' || c.last_name
	    FROM generate_series(1, $1::bigint) g JOIN contacts c ON c.id = 1 + (g * 97) % $2`, z.Activities, z.Contacts); err != nil {
		return err
	}
	if err := exec("participants (2nd contact)", `INSERT INTO activity_participants (activity_id, role, contact_id, email, name)
	    SELECT g, CASE WHEN g % 4 = 0 THEN 'attendee' ELSE 'cc' END, c.id, c.email_norm, c.first_name || ' ' || c.last_name
	    FROM generate_series(3, $1::bigint, 3) g JOIN contacts c ON c.id = 1 + (g * 131) % $2
	    WHERE (g * 131) % $2 <> (g * 97) % $2`, z.Activities, z.Contacts); err != nil {
		return err
	}
	if err := exec("participants (colleague)", `INSERT INTO activity_participants (activity_id, role, user_id, email, name)
	    SELECT g, CASE WHEN g % 4 = 0 THEN 'attendee' ELSE 'cc' END, u, 'bench' || u || '@salesbridge.example', 'Bench User ' || u
	    FROM generate_series(5, $1::bigint, 5) g, LATERAL (SELECT 1 + (g * 11) % $2 AS u) x
	    WHERE u <> 1 + (g * 7) % $2`, z.Activities, z.Users); err != nil {
		return err
	}
	if err := exec("associations", `INSERT INTO activity_associations (activity_id, object_type, object_id, created_by, created_at)
	    SELECT g, 'contact', 1 + (g * 97) % $2, 1 + (g * 7) % $3, now() FROM generate_series(1, $1::bigint) g
	    UNION ALL
	    SELECT g, 'account', 1 + ((1 + (g * 97) % $2) * 31) % $4, 1 + (g * 7) % $3, now() FROM generate_series(2, $1::bigint, 2) g`,
		z.Activities, z.Contacts, z.Users, z.Accounts); err != nil {
		return err
	}
	// The load bypassed the triggers that keep the search words (migration
	// 0250) in step; fill them the way the migration does.
	if err := exec("search words", `SELECT search_words_refill()`); err != nil {
		return err
	}
	// Move the id sequences past the generated ids so the server's own
	// inserts do not collide.
	for _, t := range []string{"accounts", "contacts", "leads", "opportunities", "activities"} {
		if err := exec("sequence "+t, fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', 'id'), (SELECT COALESCE(max(id), 1) FROM %s))`, t, t)); err != nil {
			return err
		}
	}
	for _, ix := range indexes {
		if err := exec("index "+ix.name, ix.def); err != nil {
			return err
		}
	}
	if err := exec("reset session", `RESET session_replication_role`); err != nil {
		return err
	}
	return exec("vacuum analyze", `VACUUM ANALYZE`)
}

type index struct{ name, def string }

// dropIndexes drops the secondary indexes of the loaded tables (not those
// backing primary keys or constraints) and returns their definitions.
func dropIndexes(ctx context.Context, conn *sql.Conn) ([]index, error) {
	rows, err := conn.QueryContext(ctx, `SELECT indexname, indexdef FROM pg_indexes
	    WHERE schemaname = current_schema() AND tablename = ANY(string_to_array($1, ','))
	      AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY tablename, indexname`, strings.Join(loadedTables, ","))
	if err != nil {
		return nil, err
	}
	var out []index
	for rows.Next() {
		var ix index
		if err := rows.Scan(&ix.name, &ix.def); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, ix)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, ix := range out {
		if _, err := conn.ExecContext(ctx, `DROP INDEX `+quoteIdent(ix.name)); err != nil {
			return nil, err
		}
	}
	log.Printf("gen: dropped %d secondary indexes for the load", len(out))
	return out, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
