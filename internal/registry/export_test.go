package registry

import "context"

// PollCache runs one poll of the change table, as RunCache does every
// coresPoll.
func (s *Service) PollCache(ctx context.Context) error { return s.cores.poll(ctx) }

// NextHead is the rule that picks a household's next head.
var NextHead = nextHead
