package handlers_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/salesbridge/salesbridge/models"
	"github.com/salesbridge/salesbridge/server/servertest"
)

// Concurrent creates of the same contact: exactly one is created, the
// others get 409 with its id (PostgreSQL serialises them with an advisory
// lock on the duplicate key, SQLite with its exclusive write transactions).
func TestConcurrentDuplicateContacts(t *testing.T) {
	env := servertest.New(t)
	u := env.CreateUser("erin", models.RoleUser)
	tok := env.Login(u.ID)
	const n = 10
	for round := range 3 {
		body := map[string]any{"firstName": "Con", "lastName": fmt.Sprint("Current", round), "email": fmt.Sprintf("con.current%d@example.com", round)}
		resps := make([]*servertest.Response, n)
		var start, done sync.WaitGroup
		start.Add(1)
		for i := range n {
			done.Add(1)
			go func() {
				defer done.Done()
				start.Wait()
				resps[i] = env.Do("POST", "/api/v1/contacts", body, tok)
			}()
		}
		start.Done()
		done.Wait()
		created, conflicts := 0, 0
		var id int64
		for _, r := range resps {
			switch r.Status {
			case 201:
				created++
				var c idResp
				r.JSON(t, &c)
				id = c.ID
			case 409:
				conflicts++
			default:
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
		}
		if created != 1 || conflicts != n-1 {
			t.Fatalf("round %d: %d created, %d conflicts", round, created, conflicts)
		}
		for _, r := range resps {
			if r.Status != 409 {
				continue
			}
			var e struct {
				Error struct{ Details struct{ ExistingID int64 } }
			}
			r.JSON(t, &e)
			if e.Error.Details.ExistingID != id {
				t.Fatalf("409 names %d, want %d: %s", e.Error.Details.ExistingID, id, r.Body)
			}
		}
	}
}
