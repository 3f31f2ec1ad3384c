package share_test

import (
	"fmt"
	"testing"

	"github.com/salesbridge/salesbridge/addin/share"
)

// BenchmarkShareEmail is one new email share: type check, three
// participant queries, insert, participants, associations, owner link,
// recent views and usage, in one transaction.
func BenchmarkShareEmail(b *testing.B) {
	f := newFixture(b)
	f.svc.Graph = nil
	to := make([]share.Address, 10)
	for i := range to {
		to[i] = share.Address{Email: fmt.Sprintf("person%d@example.org", i)}
	}
	body := "<div><p>Hello</p>" + "<p onclick=\"x()\">Regards</p></div>"
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, err := f.svc.ShareEmail(f.ctx, f.user.ID, share.EmailInput{
			InternetMessageID: fmt.Sprintf("<bench-%d@example.org>", i), Subject: "Bench",
			From: &share.Address{Email: "ext@acme.example"}, To: to, BodyHTML: body,
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReshareEmail is the idempotent path: the message exists.
func BenchmarkReshareEmail(b *testing.B) {
	f := newFixture(b)
	f.svc.Graph = nil
	in := share.EmailInput{InternetMessageID: "<same@example.org>", Subject: "Bench", From: &share.Address{Email: "ext@acme.example"}}
	if _, err := f.svc.ShareEmail(f.ctx, f.user.ID, in); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.svc.ShareEmail(f.ctx, f.user.ID, in); err != nil {
			b.Fatal(err)
		}
	}
}
