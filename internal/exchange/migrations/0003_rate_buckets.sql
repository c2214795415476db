-- Partners' rate limits shared by every node: one token bucket per
-- partner (tokens left when last taken, at updated_ms, Unix milliseconds).
-- Nodes take tokens in small grants (exchange.Limits), so the table is
-- written once per grant, not once per call.
CREATE TABLE exchange_rate_buckets (
    partner_id TEXT PRIMARY KEY,
    tokens DOUBLE PRECISION NOT NULL,
    updated_ms BIGINT NOT NULL
);
