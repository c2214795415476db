package exchange

// Service answers partners' requests: verify, lookup and sector
// identifiers, each checked against the partner's policy and audited.
type Service struct {
}
