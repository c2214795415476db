package delivery

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the module's Prometheus counters. A nil *Metrics counts
// nothing, so tests need not build one.
type Metrics struct {
	Queued       prometheus.Counter
	Malformed    prometheus.Counter
	Delivered    *prometheus.CounterVec // by partner
	Failed       *prometheus.CounterVec // failed attempts, by partner
	DeadLettered *prometheus.CounterVec // by partner
	Latency      prometheus.Histogram
}

// NewMetrics registers the counters on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Queued:       prometheus.NewCounter(prometheus.CounterOpts{Name: "dancu_deliveries_queued_total", Help: "Deliveries queued for partners by the life-event fan-out."}),
		Malformed:    prometheus.NewCounter(prometheus.CounterOpts{Name: "dancu_delivery_events_malformed_total", Help: "Life-event messages the fan-out could not read and skipped."}),
		Delivered:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dancu_deliveries_delivered_total", Help: "Deliveries a partner acknowledged (2xx, or JetStream publish ack)."}, []string{"partner"}),
		Failed:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dancu_delivery_attempts_failed_total", Help: "Delivery attempts that failed (timeout, network error, non-2xx)."}, []string{"partner"}),
		DeadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dancu_deliveries_dead_lettered_total", Help: "Deliveries moved to the dead-letter list after the last attempt."}, []string{"partner"}),
		Latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "dancu_delivery_attempt_duration_seconds", Help: "Duration of delivery attempts.",
			Buckets: []float64{.001, .005, .01, .05, .1, .5, 1, 5, 10}}),
	}
	reg.MustRegister(m.Queued, m.Malformed, m.Delivered, m.Failed, m.DeadLettered, m.Latency)
	return m
}

func (m *Metrics) queued(n int) {
	if m != nil {
		m.Queued.Add(float64(n))
	}
}

func (m *Metrics) malformed() {
	if m != nil {
		m.Malformed.Inc()
	}
}

func (m *Metrics) attempt(partner, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.Latency.Observe(d.Seconds())
	switch outcome {
	case outcomeDelivered:
		m.Delivered.WithLabelValues(partner).Inc()
	case outcomeRetry:
		m.Failed.WithLabelValues(partner).Inc()
	case outcomeDead:
		m.Failed.WithLabelValues(partner).Inc()
		m.DeadLettered.WithLabelValues(partner).Inc()
	}
}
