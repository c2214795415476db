// Package match finds a partner's record in the population register: it
// normalises Vietnamese names and addresses, narrows the register to a few
// candidates by blocking keys, and scores each candidate with a
// Fellegi–Sunter model. Bulk reconciliation (package reconcile) and the
// verify API use it.
package match

// Record is one row as a partner holds it: raw text, possibly without
// diacritics, misspelt, in the old administrative units, or with day and
// month swapped. Every field but Ref may be empty.
type Record struct {
	Ref        string // the partner's own row key, echoed back
	PIN        string // 12 digits, as the partner has it (may be wrong)
	CardNumber string // chip card number (= PIN) or old 9-digit ID
	FullName   string
	BirthDate  string // dd/mm/yyyy, yyyy-mm-dd, mm/yyyy or yyyy
	Sex        string // "M"/"F", "Nam"/"Nữ", "nam"/"nu"
	Address    string // free text, pre- or post-2025 unit names
	Commune    string // commune code (pre-2025 5-digit codes accepted)
}

// Outcome of matching one record.
type Outcome string

// Outcomes.
const (
	Matched   Outcome = "matched"   // one person, score above the upper threshold
	Ambiguous Outcome = "ambiguous" // needs a registrar: several candidates or a score between thresholds
	NotFound  Outcome = "not_found" // nobody scores above the lower threshold
)

// Difference is a field where the partner's value disagrees with the
// register's. The register's value is never included: callers decide what
// they may disclose.
type Difference struct {
	Field string `json:"field"` // "full_name", "birth_date", "sex", "address", "pin", "card_number"
	Kind  string `json:"kind"`  // "misspelt", "missing_diacritics", "swapped_day_month", "different", "outdated_unit", "missing"
}

// Candidate is a person the record may be.
type Candidate struct {
	PIN         string       `json:"pin"`
	Score       float64      `json:"score"`      // log-likelihood ratio (Fellegi–Sunter weight)
	Confidence  float64      `json:"confidence"` // posterior probability of a match, 0..1
	Differences []Difference `json:"differences,omitempty"`
	// Reason is why the row needs a registrar, on an ambiguous row's
	// candidates (ReasonCompeting or ReasonWeak): it travels with them
	// into the review queue.
	Reason string `json:"reason,omitempty"`
}

// Result of matching one record: for Matched, PIN, Confidence and
// Differences describe the chosen person; Candidates lists the best few in
// every outcome (empty for NotFound when nothing was near).
type Result struct {
	Ref         string       `json:"ref"`
	Outcome     Outcome      `json:"outcome"`
	PIN         string       `json:"pin,omitempty"`
	Confidence  float64      `json:"confidence"`
	Differences []Difference `json:"differences,omitempty"`
	Candidates  []Candidate  `json:"candidates,omitempty"`
	// Reason is why an Ambiguous row needs a registrar: ReasonCompeting
	// (several people fit nearly as well) or ReasonWeak (one fits, but
	// not surely enough).
	Reason string `json:"reason,omitempty"`
	// Dead is true when the matched person is recorded as dead in the
	// register (the partner still lists them).
	Dead bool `json:"dead,omitempty"`
}
