package registry

import "context"

// PollCache runs one poll of the change table, as RunCache does every
// coresPoll.
func (s *Service) PollCache(ctx context.Context) error { return s.cores.poll(ctx) }
