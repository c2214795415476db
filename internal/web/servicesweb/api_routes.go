package servicesweb

// Routes are the online services' API routes ("METHOD /pattern") as the
// platform's OpenAPI document (internal/web/api/openapi.json) documents
// them: Handler's, API's, and the payment gateway's callback, which the
// composition root mounts (app.PaymentCallbackPath). TestRoutes keeps the
// list equal to what the package mounts; the API's OpenAPI test checks the
// document against it.
func Routes() []string {
	return []string{
		"GET /api/v1/procedures",
		"GET /api/v1/procedures/{code}",
		"PUT /api/v1/procedures/{code}",
		"DELETE /api/v1/procedures/{code}",
		"GET /api/v1/procedures/{code}/form",
		"POST /api/v1/dossiers",
		"GET /api/v1/dossiers",
		"GET /api/v1/dossiers/track",
		"GET /api/v1/dossiers/{code}",
		"GET /api/v1/dossiers/{code}/qr",
		"POST /api/v1/dossiers/{code}/pay",
		"POST /api/v1/dossiers/{code}/supplement",
		"POST /api/v1/dossiers/{code}/rating",
		"GET /api/v1/organisations",
		"GET /api/v1/notifications",
		"POST /api/v1/notifications/{id}/read",
		"GET /api/v1/holidays/{year}",
		"PUT /api/v1/admin/holidays/{year}",
		"DELETE /api/v1/admin/holidays/{year}",
		"GET /api/v1/admin/payments/jobs",
		"GET /api/v1/admin/payments/reconciliations",
		CallbackRoute,
	}
}

// CallbackRoute is the payment gateway's signed callback, mounted by the
// composition root.
const CallbackRoute = "POST /api/v1/payments/callback"
