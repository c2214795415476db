// Package integration runs the eid module against the whole platform
// (apptest): the real register with its audit log, the outbox, the relay
// and the embedded JetStream. It holds tests only, kept apart so that the
// module's own tests do not depend on the composition root building.
package integration
