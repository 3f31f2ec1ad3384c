// Package syncjobs holds the argument types of the sync jobs, so that
// features which change CRM records can enqueue a push without importing
// the sync engine.
package syncjobs

// PushArgs asks for one CRM record to be pushed to the owner's mailbox
// (after a panel edit or a CRM delete). The worker runs the owner's sync of
// that type, which picks the change up by record version.
type PushArgs struct {
	UserID     int64  `json:"userId"`
	ObjectType string `json:"objectType"`
	CrmID      int64  `json:"crmId"`
}

// Kind is River's job kind.
func (PushArgs) Kind() string { return "sync.push" }
