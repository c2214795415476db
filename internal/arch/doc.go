// Package arch holds the tests of the module map's import rules
// (docs/architecture.md): the web layer imports the domain modules, the
// domain modules import storage and events, never the other way round.
package arch
