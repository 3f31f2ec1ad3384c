package panel

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/salesbridge/salesbridge/addin/panel/phone"
	"github.com/salesbridge/salesbridge/addin/usage"
	"github.com/salesbridge/salesbridge/models"
)

// Match kinds of a search hit, best first.
const (
	MatchExact  = "exact"
	MatchPrefix = "prefix"
	MatchFuzzy  = "fuzzy"
)

// Search limits.
const (
	MaxSearchLimit   = 50
	MaxQueryLength   = 200
	candidateLimit   = 200
	fuzzyThreshold   = 0.3
	defaultPageLimit = 10
)

// SearchRequest is one search box query.
type SearchRequest struct {
	UserID int64
	Query  string
	Types  []string
	Limit  int
	Cursor string
	// Region reads a national phone number in the query; empty uses the
	// service default.
	Region string
}

// Hit is one search result.
type Hit struct {
	Type    string
	ID      int64
	Name    string
	OwnerID int64
	Match   string
	Owned   bool
	Recent  bool
	score   float64
	tier    int
	norm    string
}

// SearchResult is one page of hits.
type SearchResult struct {
	Hits       []Hit
	NextCursor string
}

// candidate is a record whose name, email or phone may match.
type candidate struct {
	Type    string
	ID      int64
	OwnerID int64
	Name    string
	// Exact is set for email and phone matches.
	Exact bool
}

// nameIndex finds records whose names may match a query, on one database
// engine. The ranking happens in Go (see rank), so both engines return the
// same order for the same candidates.
type nameIndex interface {
	candidates(ctx context.Context, s *Service, q string, words []string, types []string) ([]candidate, error)
}

func (s *Service) index() nameIndex {
	if s.Store.Dialect() == models.Postgres {
		return pgIndex{}
	}
	return sqliteIndex{}
}

type searchCursor struct {
	T int     `json:"t"`
	O bool    `json:"o"`
	R bool    `json:"r"`
	S float64 `json:"s"`
	N string  `json:"n"`
	Y string  `json:"y"`
	I int64   `json:"i"`
}

func keyOf(h Hit) searchCursor {
	return searchCursor{T: h.tier, O: h.Owned, R: h.Recent, S: roundScore(h.score), N: h.norm, Y: h.Type, I: h.ID}
}

func roundScore(f float64) float64 { return float64(int64(f*10000)) / 10000 }

// before reports whether a sorts before b: tier, then owned, then recent,
// then similarity, then name, type and id.
func before(a, b searchCursor) bool {
	if a.T != b.T {
		return a.T > b.T
	}
	if a.O != b.O {
		return a.O
	}
	if a.R != b.R {
		return a.R
	}
	if a.S != b.S {
		return a.S > b.S
	}
	if a.N != b.N {
		return a.N < b.N
	}
	if a.Y != b.Y {
		return a.Y < b.Y
	}
	return a.I < b.I
}

// Search finds accounts, contacts, leads and opportunities: exact on
// emails and phone numbers (any format of the same number), prefix and
// typo-tolerant on names; exact before prefix before fuzzy, and among
// equals the caller's own and recent records first. Paging is by a cursor
// holding the last hit's sort key, so pages neither skip nor repeat.
func (s *Service) Search(ctx context.Context, req SearchRequest) (*SearchResult, error) {
	q := strings.TrimSpace(req.Query)
	if q == "" {
		return nil, models.InvalidField("q", "is required")
	}
	if utf8.RuneCountInString(q) > MaxQueryLength {
		return nil, models.InvalidField("q", fmt.Sprintf("must be at most %d characters", MaxQueryLength))
	}
	types := req.Types
	if len(types) == 0 {
		types = RecordTypes
	}
	for _, t := range types {
		if !ValidRecordType(t) {
			return nil, models.InvalidField("types", "unknown type "+truncate(t, 40)+" (use contact, account, lead, opportunity)")
		}
	}
	limit := req.Limit
	if limit <= 0 {
		limit = defaultPageLimit
	}
	if limit > MaxSearchLimit {
		return nil, models.InvalidField("limit", fmt.Sprintf("must be at most %d", MaxSearchLimit))
	}
	var after *searchCursor
	if req.Cursor != "" {
		after = &searchCursor{}
		if err := decodeCursor(req.Cursor, after); err != nil {
			return nil, err
		}
	}
	region := req.Region
	if region == "" {
		region = s.region()
	}

	var cands []candidate
	var err error
	switch {
	case strings.Contains(q, "@"):
		cands, err = s.emailCandidates(ctx, NormEmail(q), types)
	case looksLikePhone(q):
		cands, err = s.phoneCandidates(ctx, q, region, types)
	default:
		nq := normalizeText(q)
		words := strings.Fields(nq)
		if len(words) == 0 {
			return &SearchResult{}, nil
		}
		cands, err = s.index().candidates(ctx, s, nq, words, types)
	}
	if err != nil {
		return nil, err
	}
	hits := rank(normalizeText(q), cands, req.UserID)
	if err := s.markRecent(ctx, req.UserID, hits); err != nil {
		return nil, err
	}
	sort.Slice(hits, func(i, j int) bool { return before(keyOf(hits[i]), keyOf(hits[j])) })
	if after != nil {
		i := sort.Search(len(hits), func(i int) bool { return before(*after, keyOf(hits[i])) })
		hits = hits[i:]
	}
	out := &SearchResult{}
	if len(hits) > limit {
		hits = hits[:limit]
		out.NextCursor = encodeCursor(keyOf(hits[limit-1]))
	}
	out.Hits = hits
	if req.Cursor == "" {
		if err := usage.Record(ctx, s.Store, req.UserID, usage.Search, 1); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Service) markRecent(ctx context.Context, userID int64, hits []Hit) error {
	if len(hits) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(hits))
	var types []string
	seenType := map[string]bool{}
	for _, h := range hits {
		ids = append(ids, h.ID)
		if !seenType[h.Type] {
			seenType[h.Type] = true
			types = append(types, h.Type)
		}
	}
	// The types let the primary key (user_id, object_type, object_id)
	// serve the lookup, however many records the user has viewed.
	var rows []models.RecentView
	if err := s.Store.DB(ctx).Select("object_type, object_id").
		Where("user_id = ? AND object_type IN ? AND object_id IN ?", userID, types, ids).Find(&rows).Error; err != nil {
		return err
	}
	recent := map[string]bool{}
	for _, r := range rows {
		recent[fmt.Sprint(r.ObjectType, r.ObjectID)] = true
	}
	for i := range hits {
		hits[i].Recent = recent[fmt.Sprint(hits[i].Type, hits[i].ID)]
	}
	return nil
}

// rank scores candidates against the query and drops those that do not
// match well enough.
func rank(q string, cands []candidate, userID int64) []Hit {
	seen := map[string]bool{}
	var hits []Hit
	for _, c := range cands {
		k := fmt.Sprint(c.Type, c.ID)
		if seen[k] {
			continue
		}
		seen[k] = true
		n := normalizeText(c.Name)
		h := Hit{Type: c.Type, ID: c.ID, Name: c.Name, OwnerID: c.OwnerID, Owned: c.OwnerID == userID, norm: n}
		if c.Exact {
			h.tier, h.score, h.Match = 3, 1, MatchExact
		} else {
			h.tier, h.score = scoreName(q, n)
			switch h.tier {
			case 3:
				h.Match = MatchExact
			case 2:
				h.Match = MatchPrefix
			case 1:
				h.Match = MatchFuzzy
			default:
				continue
			}
		}
		hits = append(hits, h)
	}
	return hits
}

// scoreName compares a normalised query and name: tier 3 equal, 2 the name
// (or each of its words in turn) starts with the query's words, 1 similar
// by trigrams or within one edit per word, 0 no match. score orders hits
// of one tier: the trigram similarity of query and name.
func scoreName(q, name string) (int, float64) {
	sim := similarity(q, name)
	if q == name {
		return 3, sim
	}
	if strings.HasPrefix(name, q) {
		return 2, sim
	}
	qw, nw := strings.Fields(q), strings.Fields(name)
	allPrefix := len(qw) > 0
	for _, w := range qw {
		found := false
		for _, n := range nw {
			if strings.HasPrefix(n, w) {
				found = true
				break
			}
		}
		if !found {
			allPrefix = false
			break
		}
	}
	if allPrefix {
		return 2, sim
	}
	// Fuzzy: every query word resembles some name word.
	total := 0.0
	for _, w := range qw {
		best := 0.0
		for _, n := range nw {
			v := similarity(w, n)
			if len([]rune(w)) >= 4 && editDistanceAtMostOne(w, n) {
				v = max(v, 0.5)
			}
			if len([]rune(w)) >= 3 && len([]rune(n)) > len([]rune(w)) {
				// A misspelt prefix ("jonat" for "jonathan").
				v = max(v, similarity(w, string([]rune(n)[:len([]rune(w))])))
			}
			best = max(best, v)
		}
		if best < fuzzyThreshold {
			return 0, 0
		}
		total += best
	}
	return 1, total / float64(len(qw))
}

// normalizeText lower-cases, strips diacritics and collapses white space.
func normalizeText(s string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(unicode.ToLower(r))
		default:
			space = true
		}
	}
	return b.String()
}

// trigrams are pg_trgm's: each word padded with two spaces in front and
// one behind.
func trigrams(s string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.Fields(s) {
		r := []rune("  " + w + " ")
		for i := 0; i+3 <= len(r); i++ {
			out[string(r[i:i+3])] = true
		}
	}
	return out
}

// similarity is pg_trgm's similarity(): shared trigrams over all trigrams.
func similarity(a, b string) float64 {
	ta, tb := trigrams(a), trigrams(b)
	if len(ta) == 0 || len(tb) == 0 {
		return 0
	}
	shared := 0
	for t := range ta {
		if tb[t] {
			shared++
		}
	}
	return float64(shared) / float64(len(ta)+len(tb)-shared)
}

// editDistanceAtMostOne reports whether a and b differ by at most one
// insertion, deletion, substitution or swap of neighbours.
func editDistanceAtMostOne(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > len(rb) {
		ra, rb = rb, ra
	}
	if len(rb)-len(ra) > 1 {
		return false
	}
	i := 0
	for i < len(ra) && ra[i] == rb[i] {
		i++
	}
	if i == len(ra) {
		return true
	}
	if len(ra) == len(rb) {
		if string(ra[i+1:]) == string(rb[i+1:]) {
			return true
		}
		return i+1 < len(ra) && ra[i] == rb[i+1] && ra[i+1] == rb[i] && string(ra[i+2:]) == string(rb[i+2:])
	}
	return string(ra[i:]) == string(rb[i+1:])
}

// candidateSelect is the SELECT list of an exact-match candidate per type.
var candidateSelect = map[string]string{
	TypeContact:     `SELECT 'contact' AS type, id, owner_id, trim(first_name || ' ' || last_name) AS name FROM contacts`,
	TypeAccount:     `SELECT 'account' AS type, id, owner_id, name FROM accounts`,
	TypeLead:        `SELECT 'lead' AS type, id, owner_id, name FROM leads`,
	TypeOpportunity: `SELECT 'opportunity' AS type, id, owner_id, name FROM opportunities`,
}

// exactCandidates runs, for each asked type that has a condition in where,
// one bounded query of live records meeting it; every hit is exact.
func (s *Service) exactCandidates(ctx context.Context, types []string, where map[string]string, args ...any) ([]candidate, error) {
	var out []candidate
	db := s.Store.DB(ctx)
	for _, t := range types {
		cond, ok := where[t]
		if !ok {
			continue
		}
		var rows []candidate
		q := candidateSelect[t] + " WHERE (" + cond + ") AND deleted_at IS NULL ORDER BY id LIMIT @limit"
		if err := db.Raw(q, append(append([]any{}, args...), sql.Named("limit", candidateLimit))...).Scan(&rows).Error; err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	for i := range out {
		out[i].Exact = true
	}
	return out, nil
}

// emailCandidates finds contacts and leads by their normalised email.
func (s *Service) emailCandidates(ctx context.Context, email string, types []string) ([]candidate, error) {
	return s.exactCandidates(ctx, types, map[string]string{
		TypeContact: "email_norm = @v",
		TypeLead:    "email_norm = @v",
	}, sql.Named("v", email))
}

// phoneCandidates finds records whose stored E.164 number equals the
// query's.
func (s *Service) phoneCandidates(ctx context.Context, q, region string, types []string) ([]candidate, error) {
	e164, err := phone.Normalize(q, region)
	if err != nil {
		return nil, nil
	}
	return s.exactCandidates(ctx, types, map[string]string{
		TypeContact: "phone = @v OR mobile = @v",
		TypeAccount: "phone = @v",
		TypeLead:    "phone = @v",
	}, sql.Named("v", e164))
}

// typeCode is the record type's number in the SQLite search rowid.
var typeCode = map[string]int64{TypeAccount: 0, TypeContact: 1, TypeLead: 2, TypeOpportunity: 3}

type sqliteIndex struct{}

// candidates on SQLite: the FTS5 trigram table, queried with the OR of the
// query's trigrams (so a typo still shares most of them), best bm25 first.
func (sqliteIndex) candidates(ctx context.Context, s *Service, q string, words []string, types []string) ([]candidate, error) {
	db := s.Store.DB(ctx)
	codes := make([]int64, 0, len(types))
	for _, t := range types {
		codes = append(codes, typeCode[t])
	}
	var grams []string
	seen := map[string]bool{}
	for _, w := range words {
		r := []rune(w)
		for i := 0; i+3 <= len(r); i++ {
			g := string(r[i : i+3])
			if !seen[g] {
				seen[g] = true
				grams = append(grams, `"`+strings.ReplaceAll(g, `"`, `""`)+`"`)
			}
		}
	}
	type row struct {
		Rowid int64
		Name  string
	}
	var rows []row
	var err error
	if len(grams) == 0 {
		// Words shorter than a trigram: a prefix scan.
		err = db.Raw(`SELECT rowid, name FROM search_names WHERE name LIKE ? ESCAPE '\' AND (rowid % 4) IN ? LIMIT ?`,
			likeEscape(q)+"%", codes, candidateLimit).Scan(&rows).Error
	} else {
		err = db.Raw(`SELECT rowid, name FROM search_names WHERE search_names MATCH ? AND (rowid % 4) IN ? ORDER BY rank LIMIT ?`,
			strings.Join(grams, " OR "), codes, candidateLimit).Scan(&rows).Error
	}
	if err != nil {
		return nil, err
	}
	byType := map[string][]int64{}
	names := map[string]map[int64]string{}
	for _, r := range rows {
		t := RecordTypes[0]
		for name, code := range typeCode {
			if r.Rowid%4 == code {
				t = name
			}
		}
		id := r.Rowid / 4
		byType[t] = append(byType[t], id)
		if names[t] == nil {
			names[t] = map[int64]string{}
		}
		names[t][id] = r.Name
	}
	var out []candidate
	for _, t := range RecordTypes {
		ids := byType[t]
		if len(ids) == 0 {
			continue
		}
		var owners []struct{ ID, OwnerID int64 }
		if err := db.Table(tableOf[t]).Select("id, owner_id").Where("id IN ? AND deleted_at IS NULL", ids).Scan(&owners).Error; err != nil {
			return nil, err
		}
		for _, o := range owners {
			out = append(out, candidate{Type: t, ID: o.ID, OwnerID: o.OwnerID, Name: names[t][o.ID]})
		}
	}
	return out, nil
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

type pgIndex struct{}

// pgName is each type's name expression, identical to the indexed one.
var pgName = map[string]string{
	TypeAccount:     "name",
	TypeContact:     "first_name || ' ' || last_name",
	TypeLead:        "name",
	TypeOpportunity: "name",
}

// Fuzzy word matching on PostgreSQL.
const (
	similarWordsMin   = 3  // query words shorter than this match by prefix only
	similarWordsLimit = 10 // nearest words taken per query word
)

// candidates on PostgreSQL: records whose name has, for each query word, a
// word starting with it or a word similar to it (pg_trgm % over the
// distinct words in search_words, migration 0250), matched through the
// full-text index, most similar first.
func (pgIndex) candidates(ctx context.Context, s *Service, q string, words []string, types []string) ([]candidate, error) {
	db := s.Store.DB(ctx)
	// The planner overestimates OR-ed full-text matches and picks parallel
	// plans whose worker start-up costs more than the few thousand rows
	// they read; keep this request's queries serial (SET LOCAL ends with
	// the request's transaction).
	if models.InTx(ctx) {
		if err := db.Exec("SET LOCAL max_parallel_workers_per_gather = 0").Error; err != nil {
			return nil, err
		}
	}
	similar := map[string][]string{}
	var values []string
	var vargs []any
	for _, w := range words {
		if utf8.RuneCountInString(w) >= similarWordsMin {
			values = append(values, "(?)")
			vargs = append(vargs, w)
		}
	}
	if len(values) > 0 {
		var rows []struct{ Q, Word string }
		err := db.Raw(`SELECT q.w AS q, s.word FROM (VALUES `+strings.Join(values, ", ")+`) q(w)
		    CROSS JOIN LATERAL (SELECT word FROM search_words WHERE word % q.w
		        ORDER BY word <-> q.w LIMIT `+fmt.Sprint(similarWordsLimit)+`) s`, vargs...).Scan(&rows).Error
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			similar[r.Q] = append(similar[r.Q], r.Word)
		}
	}
	var terms []string
	for _, w := range words {
		alts := []string{tsLexeme(w) + ":*"}
		for _, sw := range similar[w] {
			alts = append(alts, tsLexeme(sw))
		}
		terms = append(terms, "("+strings.Join(alts, " | ")+")")
	}
	tsq := strings.Join(terms, " & ")
	var parts []string
	var args []any
	for _, t := range types {
		expr := pgName[t]
		low := "lower(" + expr + ")"
		if t == TypeContact {
			low = "lower(trim(" + expr + "))"
		}
		parts = append(parts, fmt.Sprintf(`(SELECT '%s' AS type, id, owner_id, trim(%s) AS name FROM %s
		    WHERE deleted_at IS NULL AND to_tsvector('simple', %s) @@ to_tsquery('simple', ?)
		    ORDER BY similarity(%s, ?) DESC, id LIMIT %d)`, t, expr, tableOf[t], expr, low, candidateLimit))
		args = append(args, tsq, q)
	}
	var out []candidate
	err := db.Raw(strings.Join(parts, " UNION ALL "), args...).Scan(&out).Error
	return out, err
}

// tsLexeme quotes a word as one tsquery lexeme.
func tsLexeme(w string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", "''").Replace(w) + "'"
}

// looksLikePhone reports whether a search query is meant as a phone number:
// only digits and phone punctuation, with at least six digits. The number
// itself is read by the phone package.
func looksLikePhone(q string) bool {
	digits := 0
	for _, r := range q {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune("+-() ./", r):
		default:
			return false
		}
	}
	return digits >= 6
}
