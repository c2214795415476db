package events

import "time"

// BundleStepDue and BundleAnswered are the bundles' saga (internal/bundle):
// a step to run next (written to the outbox with the state that made it
// due), and a partner's answer to a step it was sent (written with the
// answer as the partner API received it). Neither carries personal data.
var (
	BundleStepDue  = Subject[BundleStep]{"dancu.bundle.step_due"}
	BundleAnswered = Subject[BundleStep]{"dancu.bundle.answered"}
)

// BundleStep is the body of the dancu.bundle.* messages: which bundle,
// which of its steps, and when.
type BundleStep struct {
	Bundle string    `json:"bundle"`
	Step   string    `json:"step"`
	At     time.Time `json:"at"`
}
