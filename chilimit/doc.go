// Package chilimit is rate-limiting middleware for the chi router with the
// semantics of Flask-Limiter: default, application, route, shared and
// sub-router limits, exemptions, headers, fallback and configuration from
// the environment.
package chilimit
